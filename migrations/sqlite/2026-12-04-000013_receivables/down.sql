DROP TABLE receivable_reductions;
DROP TABLE receivable_extensions;
DROP TABLE payments;
DROP TABLE receivables;
