"""The Agent Protocol (the LangGraph Server API) under /lg: assistants, threads and runs as the
LangGraph SDKs, Agent Chat UI and Studio-style clients call them (`get_client(url=".../lg")`)."""

from fastapi import APIRouter

from api.routes.lg import assistants, runs, threads

AGENT_PROTOCOL_PREFIX = "/lg"
routers: list[APIRouter] = [assistants.router, threads.router, runs.router]
