"""FastAPI app, routes, JWT and the worker lifecycle."""
