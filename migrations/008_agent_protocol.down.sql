DROP TABLE IF EXISTS run_protocol_options;
DROP TABLE IF EXISTS api_keys;
