""""Track this for me" in a conversation opens a case from what the conversation knows (its facts,
its documents), answers with the deadline and reminders, and opens nothing twice; POST /cases
with a conversation takes its topic and facts the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from agents.case.dates import display_date
from agents.case.track import asks_to_track
from tests.api.cases.helpers import eventually
from tests.api.conftest import register_and_login


def test_what_counts_as_asking_to_track() -> None:
    for text in ("track this for me", "Can you keep track of this?", "please track my appeal",
                 "open a case", "remind me about the deadline"):
        assert asks_to_track(text), text
    for text in ("my claim was denied", "what does the track record of this plan look like", "case manager?"):
        assert not asks_to_track(text), text


async def test_track_this_for_me_opens_one_case(wclient: httpx.AsyncClient) -> None:
    ann = await register_and_login(wclient)
    asked = await wclient.post("/chat", headers=ann.headers,
                               json={"message": "My MRI claim was denied yesterday. It's my plan through work."})
    assert asked.json()["status"] == "success", asked.text
    conversation_id = asked.json()["conversation_id"]
    tracked = await wclient.post("/chat", headers=ann.headers,
                                 json={"message": "Please track this for me.", "conversation_id": conversation_id})
    reply = tracked.json()["reply"]
    (case,) = (await wclient.get("/cases", headers=ann.headers)).json()["items"]
    assert f"I'm tracking your appeal: case {case['id']}" in reply
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    deadline = yesterday + timedelta(days=180)
    assert f"Your deadline to file is {display_date(deadline)}" in reply and "remind you on" in reply
    assert case["source_conversation_id"] == conversation_id and case["kind"] == "appeal"

    async def drafted() -> dict | None:
        body = (await wclient.get(f"/cases/{case['id']}", headers=ann.headers)).json()
        return body if body["stage"] == "drafted" else None

    opened = await eventually(drafted, what="the letter")
    assert opened["facts"]["denial_date"] == yesterday.isoformat()
    assert (opened["facts"]["service"], opened["facts"]["plan_type"]) == ("MRI", "employer")
    assert opened["deadlines"][0]["due"] == deadline.isoformat()

    again = await wclient.post("/chat", headers=ann.headers,
                               json={"message": "track this for me", "conversation_id": conversation_id})
    assert f"I'm already tracking this appeal: case {case['id']}" in again.json()["reply"]
    assert len((await wclient.get("/cases", headers=ann.headers)).json()["items"]) == 1
    # A case's thread is not one of the person's conversations: the case's routes reach it, theirs do not.
    listed = (await wclient.get("/conversations", headers=ann.headers)).json()["items"]
    assert [c["id"] for c in listed] == [conversation_id]
    for method, path, body in (("GET", "", None), ("POST", "/extend", {}), ("POST", "/runs", {"message": "hi"}),
                               ("GET", "/workflow", None), ("DELETE", "", None)):
        answer = await wclient.request(method, f"/conversations/{case['id']}{path}", headers=ann.headers, json=body)
        assert answer.status_code == 404, (method, path)
    assert (await wclient.get(f"/cases/{case['id']}", headers=ann.headers)).status_code == 200

    explicit = await wclient.post("/cases", params={"wait": 15}, headers=ann.headers,
                                  json={"conversation_id": conversation_id, "facts": {"claim_number": "CLM-9"}})
    body = explicit.json()
    assert explicit.status_code == 201 and body["kind"] == "appeal" and body["stage"] == "drafted"
    assert (body["facts"]["service"], body["facts"]["claim_number"]) == ("MRI", "CLM-9")


async def test_nothing_to_track_yet(wclient: httpx.AsyncClient) -> None:
    ben = await register_and_login(wclient)
    asked = await wclient.post("/chat", headers=ben.headers, json={"message": "Track this for me please"})
    assert "I can keep track of an appeal" in asked.json()["reply"]
    assert (await wclient.get("/cases", headers=ben.headers)).json()["items"] == []
