"""One record, one line: a request path holding a newline (sent as %0a), an escape sequence or
a right-to-left override cannot forge or disguise a log line, in text or JSON format."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import httpx
import pytest

from api.logging import ContextFilter, JsonFormatter, TextFormatter

FORGED = "/x%0a2026-01-01 00:00:00,000 INFO api.access [admin] GET /admin/audit 200%0d%1b[2J%e2%80%ae"
RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ")


@pytest.fixture
def log_output(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """What configure_logging(LOG_FORMAT) installs, writing to a buffer beside pytest's own handlers."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if request.param == "json" else
                         TextFormatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.parametrize("log_output", ["text", "json"], indirect=True)
async def test_a_decoded_newline_in_the_path_cannot_forge_a_line(log_output: io.StringIO, client: httpx.AsyncClient,
                                                                 request: pytest.FixtureRequest) -> None:
    log_format = request.node.callspec.params["log_output"]
    response = await client.get(FORGED)
    assert response.status_code == 404
    lines = [line for line in log_output.getvalue().splitlines() if line]
    access = [line for line in lines if re.search(r'INFO api\.access \[|"logger": "api\.access"', line)]
    assert len(access) == 1, lines
    if log_format == "json":
        entries = [json.loads(line) for line in lines]
        entry = next(e for e in entries if e["logger"] == "api.access")
        assert "\n2026-01-01" in entry["message"] and "\u202e" in entry["message"]  # kept, as escapes
        assert all(ord(char) < 0x7f for char in access[0])
    else:
        assert all(RECORD_START.match(line) for line in lines), lines
        assert "/x\\x0a2026-01-01 00:00:00,000 INFO api.access [admin]" in access[0]
        assert "\\x0d\\x1b[2J\\u202e" in access[0]


@pytest.mark.parametrize("log_output", ["text"], indirect=True)
def test_a_traceback_is_indented_under_its_record(log_output: io.StringIO) -> None:
    try:
        raise RuntimeError("bad input\n2026-01-01 00:00:00,000 INFO api.access [x] forged")
    except RuntimeError:
        logging.getLogger("api.test").exception("request failed: %s", "a\nb")
    err = log_output.getvalue()
    lines = err.splitlines()
    assert RECORD_START.match(lines[0]), err
    assert lines[0].endswith("request failed: a\\x0ab")
    assert len(lines) > 2 and all(line.startswith("    ") for line in lines[1:]), lines
