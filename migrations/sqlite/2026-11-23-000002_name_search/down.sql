DROP TABLE name_search_rows;
DROP TABLE name_search;
