"""The pure parts of the Agent Protocol: what a run's input may be, stream modes, event ids."""

from __future__ import annotations

import pytest

from api.protocol.events import Position, error_payload, parse_last_event_id
from api.protocol.inputs import resume_value, stream_modes, user_message


@pytest.mark.parametrize("given", [
    {"messages": [{"role": "user", "content": "hello"}]},
    {"messages": [{"type": "human", "content": [{"type": "text", "text": "hello"}]}]},
    {"messages": {"role": "human", "content": "hello"}},
    {"messages": ["hello"]},
])
def test_one_user_message_in_any_of_the_clients_shapes(given: object) -> None:
    assert user_message(given) == "hello"


@pytest.mark.parametrize(("given", "reason"), [
    (None, "input must be"),
    ({"message": "hi"}, "input must be"),
    ({"messages": [], "x": 1}, "other than messages"),
    ({"messages": []}, "exactly one"),
    ({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}, "exactly one"),
    ({"messages": [{"role": "assistant", "content": "hi"}]}, "user message"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "x"}]}]}, "blocks other"),
    ({"messages": [{"role": "user", "content": 3}]}, "text or a list"),
])
def test_anything_else_says_why(given: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        user_message(given)


def test_stream_modes() -> None:
    assert stream_modes(None) == ["values"]
    assert stream_modes("updates") == ["updates"]
    assert stream_modes(["values", "messages-tuple", "values"]) == ["values", "messages-tuple"]
    for refused in ("events", "debug", "messages", "checkpoints"):
        with pytest.raises(ValueError, match=refused):
            stream_modes(["values", refused])


def test_commands() -> None:
    assert resume_value({"resume": {"plan_type": "employer"}}) == {"plan_type": "employer"}
    with pytest.raises(ValueError, match="goto"):
        resume_value({"resume": "x", "goto": "strategy"})
    with pytest.raises(ValueError, match="required"):
        resume_value({"update": None})


def test_last_event_ids() -> None:
    assert parse_last_event_id(None) is None and parse_last_event_id("-1") is None
    assert parse_last_event_id("12-3") == Position(12, 3)
    assert parse_last_event_id("12") > Position(12, 99)  # a bare durable id: all of that event was seen
    for bad in ("abc", "1-2-3", "-2", "1-"):
        with pytest.raises(ValueError):
            parse_last_event_id(bad)


def test_error_payloads() -> None:
    assert error_payload("ValueError: bad thing") == {"error": "ValueError", "message": "bad thing"}
    assert error_payload("max_attempts_exceeded") == {"error": "RunError", "message": "max_attempts_exceeded"}
