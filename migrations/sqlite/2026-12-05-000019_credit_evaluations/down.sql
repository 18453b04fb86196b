DROP TABLE credit_evaluations;
