-- Placeholder reserved for issue 6 (refresh_tokens, revoked access tokens, login throttling, analytics_events); replaced by that work before it lands.
SELECT 1;
