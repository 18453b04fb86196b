DROP TABLE name_key_rule;
