-- A customer's tags are kept in its details too, so that reading a customer is one row;
-- customer_tags stays the index of the tag filter.
UPDATE customers SET details = jsonb_set(details::jsonb, '{tags}', COALESCE((
    SELECT jsonb_agg(tag ORDER BY tag COLLATE "C") FROM customer_tags
    WHERE customer_tags.customer_id = customers.id
), '[]'::jsonb))::text;
