"""The agents use the person's own documents and profile: end to end with the real workers and the offline model."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import Account, register_and_login
from tests.utils import pdfs


async def conversation_with(client: httpx.AsyncClient, account: Account, letter: bytes) -> str:
    created = await client.post("/conversations", json={"title": "my denial"}, headers=account.headers)
    conversation_id: str = created.json()["id"]
    uploaded = await client.post("/documents", headers=account.headers,
                                 files={"file": ("denial.pdf", letter, "application/pdf")},
                                 data={"conversation_id": conversation_id})
    assert uploaded.status_code == 201, uploaded.text
    return conversation_id


async def ask(client: httpx.AsyncClient, account: Account, message: str,
              conversation_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message}
    if conversation_id:
        body["conversation_id"] = conversation_id
    response = await client.post("/chat", json=body, headers=account.headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_how_do_i_appeal_is_answered_from_the_attached_letter(wclient: httpx.AsyncClient) -> None:
    person = await register_and_login(wclient)
    conversation_id = await conversation_with(wclient, person, pdfs.denial_letter_pdf())
    answer = await ask(wclient, person, "how do I appeal?", conversation_id)
    assert answer["status"] == "success" and answer["question"] is None, answer
    reply = answer["reply"]
    assert "Your denial letter (page 1): MRI of the lumbar spine denied as not medically necessary on March 3, 2026" \
        in reply
    # The deadline once: computed, with the page of the letter that states it.
    assert "Your internal appeal deadline is August 30, 2026: 180 days from March 3, 2026, when the denial " \
           "arrived, as your denial letter states on page 2." in reply
    assert reply.count("August 30, 2026") == 1
    assert "six weeks of conservative treatment" in reply  # the letter's own reason
    assert "Attn: Appeals Unit, P.O. Box 12345, Columbus, OH 43215" in reply
    assert "CLM-2026-0042117" in reply
    assert "employer plan" in reply  # the letter says it is an employer group plan: no question about it
    # Without the letter, the same question asks for the facts.
    bare = await ask(wclient, person, "how do I appeal?")
    assert bare["status"] == "interrupted" and bare["question"]


async def test_two_people_same_question_each_answer_cites_only_their_own(wclient: httpx.AsyncClient) -> None:
    ann, ben = await register_and_login(wclient), await register_and_login(wclient)
    ann_conversation = await conversation_with(wclient, ann, pdfs.denial_letter_pdf(pdfs.Letter(
        claim_number="CLM-ANN-1111", letter_date="April 2, 2026")))
    ben_conversation = await conversation_with(wclient, ben, pdfs.denial_letter_pdf(pdfs.Letter(
        claim_number="CLM-BEN-2222", letter_date="May 11, 2026", service="physical therapy",
        reason="Physical therapy is not medically necessary after the 20 visits the plan allows.")))
    ann_answer = (await ask(wclient, ann, "how do I appeal?", ann_conversation))["reply"]
    ben_answer = (await ask(wclient, ben, "how do I appeal?", ben_conversation))["reply"]
    assert "CLM-ANN-1111" in ann_answer and "September 29, 2026" in ann_answer and "lumbar" in ann_answer
    assert "CLM-BEN-2222" not in ann_answer and "November 7, 2026" not in ann_answer
    assert "CLM-BEN-2222" in ben_answer and "November 7, 2026" in ben_answer and "20 visits" in ben_answer
    assert "CLM-ANN-1111" not in ben_answer and "lumbar" not in ben_answer
    # Nor does either list, read or download the other's document.
    listed = (await wclient.get("/documents", headers=ben.headers)).json()["items"]
    assert [d["facts"]["claim_number"] for d in listed] == ["CLM-BEN-2222"]


async def test_profile_facts_are_known_and_the_conversation_overrides_them(wclient: httpx.AsyncClient) -> None:
    person = await register_and_login(wclient)
    saved = await wclient.put("/me/profile", headers=person.headers,
                              json={"plan_type": "employer", "state": "OH", "insurer": "Acme Health"})
    assert saved.status_code == 200
    answer = await ask(wclient, person, "My MRI claim was denied on March 3, what now?")
    assert answer["status"] == "success" and answer["question"] is None, answer
    assert "On your employer plan with Acme Health in Ohio (from your profile)." in answer["reply"]
    assert "employer plan" in answer["reply"].split("From your own documents")[1]
    # The person says otherwise in the conversation: that wins.
    said = await ask(wclient, person, "My MRI claim was denied on March 3 and I have Medicare, what now?")
    assert said["status"] == "success"
    assert "Medicare Summary Notice" in said["reply"]
    assert "employer plan" not in said["reply"] and "On your plan in Ohio (from your profile)." in said["reply"]
