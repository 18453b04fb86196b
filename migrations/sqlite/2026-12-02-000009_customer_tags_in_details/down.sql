UPDATE customers SET details = json_remove(details, '$.tags');
