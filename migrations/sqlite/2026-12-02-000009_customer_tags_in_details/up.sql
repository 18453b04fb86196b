-- A customer's tags are kept in its details too, so that reading a customer is one row;
-- customer_tags stays the index of the tag filter.
UPDATE customers SET details = json_set(details, '$.tags', json((
    SELECT json_group_array(tag) FROM (
        SELECT tag FROM customer_tags WHERE customer_tags.customer_id = customers.id ORDER BY tag
    )
)));
