-- Exchange rates into the company currency, one per currency and day; a rate holds until the
-- next one of its currency. The rate is an exact decimal string.
CREATE TABLE fx_rates (
    currency TEXT NOT NULL,
    rate_on DATE NOT NULL,
    rate TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (currency, rate_on)
);
