"""The drafted letter from the person's own documents: the denial letter's facts (claim, date,
reason in its own words, where to send it, the deadline it gives) and the plan's own wording from
their policy; a decision letter that moves the case to external review."""

from __future__ import annotations

import httpx

from tests.api.conftest import register_and_login
from tests.utils import pdfs

POLICY = (b"Acme Health Employee Plan - Medical Policy\n\nDiagnostic imaging. An MRI of the lumbar spine is "
          b"covered when it is medically necessary, including when red-flag symptoms are present or after six "
          b"weeks of conservative treatment have failed.\n")


async def test_the_letter_quotes_the_denial_and_the_plans_own_wording(http: httpx.AsyncClient) -> None:
    ann = await register_and_login(http)
    denial = await http.post("/documents", headers=ann.headers,
                             files={"file": ("acme-denial.pdf", pdfs.denial_letter_pdf(), "application/pdf")})
    assert denial.status_code == 201 and denial.json()["kind"] == "denial_letter", denial.text
    policy = await http.post("/documents", headers=ann.headers, data={"kind": "policy"},
                             files={"file": ("medical-policy.txt", POLICY, "text/plain")})
    assert policy.status_code == 201, policy.text

    opened = await http.post("/cases", params={"wait": 15}, headers=ann.headers,
                             json={"kind": "appeal", "document_ids": [denial.json()["id"]],
                                   "facts": {"member_name": "Jane Doe", "plan_type": "employer"}})
    case = opened.json()
    assert case["stage"] == "drafted", case
    assert case["facts"]["claim_number"] == "CLM-2026-0042117" and case["facts"]["denial_date"] == "2026-03-03"
    (deadline,) = case["deadlines"]
    assert (deadline["due"], deadline["rule"]) == ("2026-08-30", "the date your denial letter gives")

    letter = (await http.get(f"/cases/{case['id']}/letter", params={"format": "text"}, headers=ann.headers)).text
    assert "Jane Doe" in letter and "Claim number: CLM-2026-0042117" in letter
    assert "Acme Health Insurance Company\nAttn: Appeals Unit" in letter  # the denial letter says who denied it
    assert "The denial states: \"The service is not medically necessary." in letter
    assert "P.O. Box 12345, Columbus, OH 43215" in letter
    assert "My plan's policy document" in letter and "covered when it is medically necessary" in letter
    assert "Denial letter: acme-denial.pdf" in letter

    # The decision letter arrives: denied again; the external review letter quotes its reason.
    decision = await http.post("/documents", headers=ann.headers, files={"file": (
        "decision.pdf", pdfs.denial_letter_pdf(pdfs.Letter(letter_date="October 1, 2026", reason=(
            "Upon appeal, the denial is upheld: imaging is not medically necessary without conservative care."))),
        "application/pdf")})
    assert decision.status_code == 201, decision.text
    told = await http.post(f"/cases/{case['id']}/events", params={"wait": 15}, headers=ann.headers,
                           json={"type": "decision", "outcome": "denied", "document_id": decision.json()["id"]})
    case = told.json()["case"]
    assert case["stage"] == "decided" and case["deadlines"][-1]["due"] == "2027-02-01"  # 4 months from its date
    review = (await http.get(f"/cases/{case['id']}/letter", params={"format": "text"}, headers=ann.headers)).text
    assert "Request for external review" in review and "Upon appeal, the denial is upheld" in review
