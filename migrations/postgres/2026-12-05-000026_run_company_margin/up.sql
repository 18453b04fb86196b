-- A run keeps each customer's score facts, not the explanation they give: with the company's
-- margin over the period (the share of profit reads it) the score is given again on read.
ALTER TABLE segmentation_runs ADD COLUMN company_margin_minor BIGINT;
