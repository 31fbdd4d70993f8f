"""Limits shared by every entry point (API, command line, graph).

One message cap for the whole service: the API refuses a longer message with
422 before it creates anything, `navigator ask` refuses it with a one-line
error, and the guard refuses it for any other caller of the graph.
"""

from __future__ import annotations

# A question with its key facts fits in far less; longer text is usually a pasted document,
# which belongs in an upload, not a chat message.
MAX_MESSAGE_CHARS = 4000
