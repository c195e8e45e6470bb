DROP TABLE history_from;
DROP INDEX field_history_account;
DROP TABLE field_history;
