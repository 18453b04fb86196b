ALTER TABLE segmentation_runs DROP COLUMN company_margin_minor;
