DROP TABLE run_events;
DROP FUNCTION run_events_notify();
DROP TABLE runs;
DROP FUNCTION runs_notify_workers();
