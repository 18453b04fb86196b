UPDATE customers SET details = (details::jsonb - 'tags')::text;
