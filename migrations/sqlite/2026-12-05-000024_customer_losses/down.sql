DROP TABLE customer_losses;
