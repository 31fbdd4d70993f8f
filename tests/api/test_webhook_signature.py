"""The README's few lines of webhook verification accept what the service signs, and nothing else."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from api.notify import sign, verify
from tests.utils.db import ROOT

SECRET = "whsec_test-secret"
BODY = b'{"idempotency_key":"case:1:timer:2","type":"reminder"}'


def readme_verify() -> Callable[..., bool]:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Webhooks"):]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None
    namespace: dict[str, object] = {}
    exec(code.group(1), namespace)  # noqa: S102 (the README's own example)
    return namespace["verify"]  # type: ignore[return-value]


def test_the_readme_verifies_what_the_service_signs() -> None:
    for check in (readme_verify(), verify):
        now = int(time.time())
        header = sign(SECRET, now, BODY)
        assert check(SECRET, header, BODY)
        assert not check(SECRET, header, BODY.replace(b"reminder", b"escalation"))
        assert not check("whsec_another", header, BODY)
        assert not check(SECRET, sign(SECRET, now - 3600, BODY), BODY)  # replayed an hour later
