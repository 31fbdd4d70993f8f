"""A case through its whole life on an advanced clock: the letter, reminders 14 and 3 days before
the filing deadline (not a minute early), the escalation after 30 days without a decision, a
denial that opens the external review with its own deadline and letter, and a timeline that
says all of it in order. Every reminder arrives once: in the app, by webhook and by email."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI
from pypdf import PdfReader

from db.clock import Clock
from scripts.dev.receivers import SmtpReceiver, WebhookReceiver
from tests.api.cases.helpers import START, advance, eventually, notifications, settled_case
from tests.api.conftest import register_and_login

FACTS = {"service": "MRI of the lumbar spine", "denial_date": "2026-03-03", "plan_type": "employer",
         "claim_number": "CLM-2026-0042117", "insurer": "Acme Health", "member_name": "Ann Example"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def test_a_case_through_its_whole_life(case_app: FastAPI, http: httpx.AsyncClient, clock: Clock,
                                             smtp: SmtpReceiver) -> None:
    assert clock.now() < at("2026-03-11T00:00")
    ann = await register_and_login(http)
    receiver = WebhookReceiver().start()
    try:
        hook = await http.post("/me/webhooks", json={"url": receiver.url}, headers=ann.headers)
        assert hook.status_code == 201, hook.text
        receiver.secret = hook.json()["secret"]

        opened = await http.post("/cases", params={"wait": 15}, headers=ann.headers,
                                 json={"kind": "appeal", "facts": FACTS})
        assert opened.status_code == 201, opened.text
        case = opened.json()
        case_id = case["id"]
        assert (case["stage"], case["level_label"], case["processing"]) == ("drafted", "internal appeal", False)
        (filing,) = case["deadlines"]
        assert (filing["due"], filing["status"]) == ("2026-08-30", "open")
        assert "180 days from the denial notice of March 3, 2026" in filing["rule"]
        assert case["next_action"]["action"] == "file" and case["next_action"]["due"] == "2026-08-30"
        assert [(t["purpose"], t["due_at"], t["status"]) for t in case["timers"]] == [
            ("reminder", "2026-08-16T14:00:00Z", "pending"), ("reminder", "2026-08-27T14:00:00Z", "pending"),
            ("deadline_missed", "2026-08-31T14:00:00Z", "pending")]

        text = (await http.get(f"/cases/{case_id}/letter", params={"format": "text"}, headers=ann.headers)).text
        for fact in ("CLM-2026-0042117", "MRI of the lumbar spine", "March 3, 2026", "August 30, 2026",
                     "Ann Example", "Acme Health", "Enclosed:"):
            assert fact in text
        pdf = await http.get(f"/cases/{case_id}/letter", headers=ann.headers)
        assert pdf.headers["content-type"] == "application/pdf"
        pages = PdfReader(io.BytesIO(pdf.content), strict=True).pages
        read_back = " ".join(" ".join(page.extract_text().split()) for page in pages)
        assert "Claim number: CLM-2026-0042117" in read_back and "August 30, 2026" in read_back

        # A minute before the first reminder: nothing. At its time: one reminder.
        advance(case_app, clock, at("2026-08-16T13:59"))
        await settled_case(http, ann, case_id)
        assert await notifications(http, ann) == []
        advance(case_app, clock, at("2026-08-16T14:00:01"))
        first = await eventually(lambda: _count(http, ann, 1), what="the 14-day reminder")
        assert first[0]["kind"] == "reminder" and "due in 14 days" in first[0]["title"]
        assert first[0]["created_at"].startswith("2026-08-16T14:00")

        advance(case_app, clock, at("2026-08-27T14:00:01"))
        second = (await eventually(lambda: _count(http, ann, 2), what="the 3-day reminder"))[1]
        assert "due in 3 days" in second["title"] and "August 30, 2026" in second["body"]

        filed = await http.post(f"/cases/{case_id}/events", params={"wait": 15}, headers=ann.headers,
                                json={"type": "filed", "date": "2026-08-28", "method": "mail"})
        assert filed.status_code == 202, filed.text
        case = filed.json()["case"]
        assert case["stage"] == "waiting_for_decision"
        decision = case["deadlines"][-1]
        assert (decision["name"], decision["due"]) == ("internal_appeal_decision", "2026-09-27")
        timers = {t["purpose"]: t["status"] for t in case["timers"]}
        assert timers == {"reminder": "fired", "deadline_missed": "cancelled", "escalation": "pending"}

        # 30 days after filing without a decision: how to escalate.
        advance(case_app, clock, at("2026-09-27T14:00:01"))
        escalation = (await eventually(lambda: _count(http, ann, 3), what="the escalation"))[2]
        assert escalation["kind"] == "escalation" and "external review" in escalation["body"]

        denied = await http.post(f"/cases/{case_id}/events", params={"wait": 15}, headers=ann.headers,
                                 json={"type": "decision", "outcome": "denied", "date": "2026-10-01"})
        case = denied.json()["case"]
        assert (case["stage"], case["level_label"]) == ("decided", "external review")
        review = case["deadlines"][-1]
        assert (review["name"], review["due"], review["status"]) == ("file_external_review", "2027-02-01", "open")
        assert case["letter"]["title"] == "Request for external review"
        assert sorted(t["due_at"] for t in case["timers"] if t["status"] == "pending") == [
            "2027-01-18T14:00:00Z", "2027-01-29T14:00:00Z", "2027-02-02T14:00:00Z"]
        letter = (await http.get(f"/cases/{case_id}/letter", params={"format": "text"}, headers=ann.headers)).text
        assert "external review" in letter and "February 1, 2027" in letter and "October 1, 2026" in letter

        assert [e["type"] for e in case["timeline"]] == [
            "opened", "letter_drafted", "stage", "reminder", "reminder", "filed", "stage", "stage", "escalation",
            "decision", "next_level", "letter_drafted", "stage"]
        assert [e["data"].get("stage") for e in case["timeline"] if e["type"] == "stage"] == [
            "drafted", "filed", "waiting_for_decision", "decided"]

        # Each notification once, everywhere, with one key per notification.
        told = await notifications(http, ann)
        keys = [n["idempotency_key"] for n in told]
        assert len(told) == 3 and len(set(keys)) == 3 and all(k.startswith(f"case:{case_id}:timer:") for k in keys)

        async def delivered() -> list[dict] | None:
            found = await notifications(http, ann)
            done = all(d["status"] == "delivered" for n in found for d in n["deliveries"])
            return found if done and all(len(n["deliveries"]) == 2 for n in found) else None

        await eventually(delivered, what="every delivery")
        assert receiver.accepted() == {key: 1 for key in keys}
        assert all(r.signature_ok for r in receiver.received)
        mails = [m for m in smtp.messages if m["To"] == ann.email]
        assert sorted(m["X-Navigator-Idempotency-Key"] for m in mails) == sorted(keys)
    finally:
        receiver.stop()


async def _count(http: httpx.AsyncClient, account: object, n: int) -> list[dict] | None:
    found = await notifications(http, account)  # type: ignore[arg-type]
    assert len(found) <= n, found
    return found if len(found) == n else None


async def test_a_letter_needs_its_facts_first(case_app: FastAPI, http: httpx.AsyncClient, clock: Clock) -> None:
    ann = await register_and_login(http)
    opened = await http.post("/cases", params={"wait": 15}, headers=ann.headers,
                             json={"kind": "appeal", "facts": {"plan_type": "marketplace"}})
    case = opened.json()
    assert case["stage"] == "gathering" and case["next_action"]["missing"] == ["service", "denial_date"]
    assert case["timers"] == [] and case["letter"] is None
    early = await http.get(f"/cases/{case['id']}/letter", headers=ann.headers)
    assert early.status_code == 409 and "denial notice" in early.json()["detail"]

    today = clock.now().date()
    told = await http.post(f"/cases/{case['id']}/events", params={"wait": 15}, headers=ann.headers,
                           json={"type": "facts", "facts": {"service": "physical therapy",
                                                            "denial_date": today.isoformat()}})
    case = told.json()["case"]
    assert case["stage"] == "drafted" and case["letter"]["title"] == "Request for internal appeal"
    assert {t["purpose"] for t in case["timers"]} == {"reminder", "deadline_missed"}

    closed = await http.post(f"/cases/{case['id']}/events", params={"wait": 15}, headers=ann.headers,
                             json={"type": "closed", "reason": "resolved by phone"})
    case = closed.json()["case"]
    assert case["stage"] == "closed" and {t["status"] for t in case["timers"]} == {"cancelled"}
    late = await http.post(f"/cases/{case['id']}/events", headers=ann.headers, json={"type": "filed"})
    assert late.status_code == 409
    assert (await http.delete(f"/cases/{case['id']}", headers=ann.headers)).status_code == 204
    assert (await http.get(f"/cases/{case['id']}", headers=ann.headers)).status_code == 404
    assert START < clock.now()
