-- Placeholder reserved for issue 5 (runs, run_events); replaced by that work before it lands.
SELECT 1;
