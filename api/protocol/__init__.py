"""The LangGraph Server API's shapes (the Agent Protocol served under /lg), as pure functions:
JSON for graph values and messages, threads, runs, states and assistants, run input, and the
Server-Sent Events a run's durable events become. No I/O here; `api.agent_protocol` does it."""
