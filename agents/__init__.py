"""The agent graph: state, the four nodes, models and the knowledge base (never imports api or db)."""
