"""What a LangGraph client asks of a run, checked and turned into what the service runs.

`{"messages": [{"role": "user", "content": "..."}]}` (or `{"type": "human", ...}`, with
content as text or as text blocks, as Agent Chat UI sends it) becomes the one message a run
of /conversations/{id}/runs takes; `command={"resume": ...}` answers the question waiting.
Anything the service cannot honour is a ValueError whose text says why (answered 422).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Stream modes a run's durable events and checkpoints can rebuild after the fact.
SUPPORTED_STREAM_MODES = ("values", "updates", "messages-tuple", "custom")
DEFAULT_STREAM_MODES = ("values",)
USER_ROLES = ("user", "human")


def stream_modes(requested: str | Sequence[str] | None, default: Sequence[str] = DEFAULT_STREAM_MODES) -> list[str]:
    """The modes in request order without repeats; `custom` is accepted and never has events
    (the graph emits none)."""
    if requested is None or (not isinstance(requested, str) and not requested):
        return list(default)
    modes = [requested] if isinstance(requested, str) else list(requested)
    unsupported = [mode for mode in modes if mode not in SUPPORTED_STREAM_MODES]
    if unsupported:
        raise ValueError(f"stream_mode {', '.join(map(repr, unsupported))} is not supported: this server rebuilds a "
                         "run's stream from its durable events and checkpoints, which give "
                         + ", ".join(SUPPORTED_STREAM_MODES))
    return list(dict.fromkeys(modes))


def text_of(content: Any) -> str:
    """A message's text: a string, or the text of its `{"type": "text", "text": ...}` blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, Mapping) and block.get("type") == "text" and isinstance(block.get("text"), str):
                parts.append(block["text"])
            else:
                raise ValueError("message content blocks other than text are not supported")
        return "\n".join(parts)
    raise ValueError("message content must be text or a list of text blocks")


def user_message(run_input: Any) -> str:
    """The text of the one user message in `{"messages": [...]}`."""
    if not isinstance(run_input, Mapping) or "messages" not in run_input:
        raise ValueError('input must be {"messages": [{"role": "user", "content": "..."}]}')
    extra = sorted(set(run_input) - {"messages"})
    if extra:
        raise ValueError(f"input keys other than messages are not accepted: {', '.join(extra)}")
    messages = run_input["messages"]
    if isinstance(messages, Mapping):
        messages = [messages]
    if not isinstance(messages, list) or len(messages) != 1:
        raise ValueError("input.messages must hold exactly one user message (the thread keeps the history)")
    message = messages[0]
    if isinstance(message, str):
        return message
    if not isinstance(message, Mapping):
        raise ValueError("input.messages[0] must be a message object")
    role = message.get("role", message.get("type"))
    if role not in USER_ROLES:
        raise ValueError("input.messages[0] must be a user message (role 'user' or type 'human')")
    return text_of(message.get("content"))


def resume_value(command: Mapping[str, Any]) -> Any:
    """The answer in `{"resume": ...}`; `goto` and `update` are not something a person's
    conversation can be steered with here."""
    unsupported = sorted(key for key, value in command.items() if key != "resume" and value is not None)
    if unsupported:
        raise ValueError(f"command.{unsupported[0]} is not supported; send command.resume to answer a question")
    if command.get("resume") is None:
        raise ValueError("command.resume is required: the answer to the question the thread is waiting on")
    return command["resume"]
