DROP TABLE IF EXISTS analytics_events;
DROP TABLE IF EXISTS login_throttle;
DROP TABLE IF EXISTS revoked_access_tokens;
DROP TABLE IF EXISTS refresh_tokens;
