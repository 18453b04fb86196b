DROP TABLE credit_agreements;
DROP TABLE credit_applications;
