"""Notifications against real receivers: a webhook that fails twice and then accepts gets one
accepted delivery, every attempt signed and carrying the same key; one that always fails ends
dead after NOTIFY_MAX_ATTEMPTS with the reason in the API; the email is one message with the
expected headers and body. Read/unread, and webhooks' secrets shown once."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from db.clock import Clock
from scripts.dev.receivers import SmtpReceiver, WebhookReceiver
from tests.api.cases.helpers import NOTIFY_MAX_ATTEMPTS, advance, eventually, notifications
from tests.api.conftest import Account, register_and_login


async def remind_soon(app: FastAPI, http: httpx.AsyncClient, clock: Clock, account: Account) -> dict[str, Any]:
    """Open a case whose filing deadline is 4 days away, then move to its 3-day reminder; the reminder."""
    today = clock.now().date()
    denial = today - timedelta(days=180) + timedelta(days=4)
    opened = await http.post("/cases", params={"wait": 15}, headers=account.headers,
                             json={"kind": "appeal", "facts": {"service": "CT scan", "denial_date": denial.isoformat(),
                                                               "plan_type": "marketplace"}})
    assert opened.status_code == 201, opened.text
    assert [t["purpose"] for t in opened.json()["timers"]] == ["reminder", "deadline_missed"]  # 14 days: past
    advance(app, clock, datetime.combine(today + timedelta(days=1), time(14, 0, 1), tzinfo=UTC))
    (reminder,) = await eventually(lambda: _some(http, account), what="the reminder")
    return reminder


async def _some(http: httpx.AsyncClient, account: Account) -> list[dict[str, Any]] | None:
    return await notifications(http, account) or None


async def register_webhook(http: httpx.AsyncClient, account: Account, receiver: WebhookReceiver) -> str:
    created = await http.post("/me/webhooks", json={"url": receiver.url}, headers=account.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    receiver.secret = body["secret"]
    return str(body["id"])


async def test_webhooks_retry_with_one_key_then_dead_letter_and_email(case_app: FastAPI, http: httpx.AsyncClient,
                                                                      clock: Clock, smtp: SmtpReceiver) -> None:
    ben = await register_and_login(http)
    flaky, broken = WebhookReceiver(fail_first=2).start(), WebhookReceiver(always_fail=True).start()
    try:
        flaky_id = await register_webhook(http, ben, flaky)
        broken_id = await register_webhook(http, ben, broken)
        listed = (await http.get("/me/webhooks", headers=ben.headers)).json()
        assert {w["id"] for w in listed} == {flaky_id, broken_id} and all("secret" not in w for w in listed)

        reminder = await remind_soon(case_app, http, clock, ben)
        key = reminder["idempotency_key"]

        async def settled() -> dict[str, Any] | None:
            (found,) = await notifications(http, ben)
            return found if all(d["status"] in ("delivered", "dead") for d in found["deliveries"]) else None

        found = await eventually(settled, what="the deliveries to settle")
        by_target = {d["webhook_id"] or d["channel"]: d for d in found["deliveries"]}
        assert by_target[flaky_id]["status"] == "delivered" and by_target[flaky_id]["attempts"] == 3
        dead = by_target[broken_id]
        assert (dead["status"], dead["attempts"]) == ("dead", NOTIFY_MAX_ATTEMPTS)
        assert dead["last_error"] == "the receiver answered HTTP 500"
        assert by_target["email"]["status"] == "delivered"

        # Three attempts at the flaky receiver, all signed, all with the one key; one accepted.
        assert flaky.attempts() == {key: 3} and flaky.accepted() == {key: 1}
        assert all(r.signature_ok for r in flaky.received + broken.received)
        assert broken.attempts() == {key: NOTIFY_MAX_ATTEMPTS} and broken.accepted() == {}
        body = flaky.received[-1].body
        assert (body["idempotency_key"], body["type"], body["case_id"]) == (key, "reminder", reminder["case_id"])
        assert flaky.received[-1].headers["Navigator-Event"] == "reminder"
        counts = {w["id"]: w["deliveries"] for w in (await http.get("/me/webhooks", headers=ben.headers)).json()}
        assert counts == {flaky_id: {"delivered": 1}, broken_id: {"dead": 1}}
        await case_app.state.pool.execute("UPDATE users SET role = 'admin' WHERE email = $1", ben.email)
        stats = (await http.get("/stats", headers=ben.headers)).json()
        assert stats["deliveries"]["webhook"]["dead"] >= 1 and stats["timers"]["fired"] >= 1 and stats["cases"] >= 1

        (mail,) = [m for m in smtp.messages if m["To"] == ben.email]
        assert mail["X-Navigator-Idempotency-Key"] == key
        assert mail["Subject"] == reminder["title"] and mail["From"] == case_app.state.settings.smtp_from
        assert mail["Message-ID"].endswith("@insurance-navigator>")
        text = mail.get_payload(decode=True).decode()
        assert reminder["body"] in text and reminder["case_id"] in text

        # Deleting a webhook stops its deliveries; another person cannot delete it.
        eve = await register_and_login(http)
        assert (await http.delete(f"/me/webhooks/{flaky_id}", headers=eve.headers)).status_code == 404
        assert (await http.delete(f"/me/webhooks/{flaky_id}", headers=ben.headers)).status_code == 204
        assert [w["id"] for w in (await http.get("/me/webhooks", headers=ben.headers)).json()] == [broken_id]
    finally:
        flaky.stop()
        broken.stop()


async def test_read_and_unread(case_app: FastAPI, http: httpx.AsyncClient, clock: Clock) -> None:
    cleo = await register_and_login(http)
    reminder = await remind_soon(case_app, http, clock, cleo)
    assert reminder["read"] is False
    page = (await http.get("/me/notifications", params={"unread": True}, headers=cleo.headers)).json()
    assert page["unread"] == 1 and [n["id"] for n in page["items"]] == [reminder["id"]]
    marked = await http.patch(f"/me/notifications/{reminder['id']}", json={"read": True}, headers=cleo.headers)
    assert marked.json()["read"] is True and marked.json()["read_at"] is not None
    page = (await http.get("/me/notifications", params={"unread": True}, headers=cleo.headers)).json()
    assert page == {"items": [], "next_cursor": None, "unread": 0}
    await http.patch(f"/me/notifications/{reminder['id']}", json={"read": False}, headers=cleo.headers)
    assert (await http.post("/me/notifications/read", headers=cleo.headers)).json() == {"updated": 1}
    dan = await register_and_login(http)
    assert (await http.patch(f"/me/notifications/{reminder['id']}", json={"read": True},
                             headers=dan.headers)).status_code == 404
    assert (await http.get("/me/notifications", headers=dan.headers)).json()["items"] == []
