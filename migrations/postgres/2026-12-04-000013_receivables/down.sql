DROP TABLE receivable_reductions;
DROP TABLE payments;
DROP TABLE receivables;
