DROP TABLE IF EXISTS model_usage_daily;
