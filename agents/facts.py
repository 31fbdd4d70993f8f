"""The facts a person has given, carried across the turns of a conversation.

One plain JSON dict in the graph state (`facts`), with the keys below; every
value is optional. It is merged by one pure function, `merge_facts`, whose
later layers win: the conversation's facts are merged over anything known
from outside (a profile, uploaded documents), so what the person says in the
conversation always wins, and nothing already known is asked again. The
navigator reads the outside layer from the person's profile and documents
(`agents.personal.known_facts`, through the `PersonalContext` port) and from
`known_facts` a caller passes with the input.

Dates are ISO (`2026-03-03`), or `2026-08` when only a month is known; a date
the person gave that could not be resolved is kept as their words. Amounts
are numbers in dollars; `amounts` keeps every amount as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FACT_KEYS: dict[str, str] = {
    # the plan
    "plan_type": "employer | marketplace | medicare | medicaid | chip | tricare | va | uninsured",
    "plan_detail": "original_medicare | medicare_advantage | part_d | self_funded | hmo | ppo | epo | pos | hdhp",
    "plan_through": "own_job | spouse | parent | former_employer | self_bought",
    "insurer": "the insurer's name as commonly written (Aetna, Blue Cross, Cigna, Humana, Kaiser, UnitedHealthcare)",
    "state": "US state, two-letter code",
    "employer_size": "number of employees of the employer that sponsors the plan",
    "plan_name": "the plan's name, as the insurer writes it (from the profile)",
    "renewal_month": "the month the plan renews, 1-12 (from the profile)",
    "preferred_language": "the language the person prefers, as a tag (en, es, zh-Hant; from the profile)",
    # what the question is about
    "service": "the medical service, as named (MRI, knee surgery, physical therapy)",
    "drug": "the drug, as named (Tresiba, Humira), never generalised",
    "age": "the patient's or the person's age, when said",
    # dates
    "denial_date": "when the denial (or the final internal denial) arrived, or the date on it",
    "notice_date": "when another notice arrived (COBRA election notice, Medicaid notice)",
    "event": "a life event: birth | adoption | marriage | divorce | move | job_loss | coverage_loss | "
             "turning_26 | turning_65 | retirement | hours_cut | medicaid_loss",
    "event_date": "when the life event happened or will happen",
    "coverage_end_date": "when coverage ended or will end",
    "due_date": "a deadline the person was given (a renewal due date)",
    "appeal_date": "when the person filed an appeal",
    "request_date": "when a prior authorization request was submitted",
    "waiting_days": "how long the person has been waiting for a decision, in days",
    "appeal_deadline": "the date an appeal must be filed by, as a denial letter states it (or its period from "
                       "the letter's date)",
    "dates": "other dates mentioned (ISO, or the person's words)",
    # what a denial letter or an explanation of benefits says
    "claim_number": "the claim or reference number",
    "denial_reason": "the reason the denial gives, in its words",
    "appeal_address": "where the plan says to send an appeal (mail address or fax)",
    # money
    "amounts": "every amount as written ($1,250)",
    "price": "the service's price or allowed amount",
    "bill_amount": "the amount billed",
    "estimate_amount": "the good faith estimate or quoted price",
    "eob_owed": "what the explanation of benefits says the person owes",
    "plan_paid": "what the plan paid, per the explanation of benefits",
    "deductible": "the plan's deductible",
    "deductible_met": "how much of the deductible is already paid",
    "coinsurance_pct": "coinsurance, in percent",
    "copay": "the copay per visit or fill",
    "visits": "how many visits or fills",
    "oop_max": "the plan's out-of-pocket maximum",
    "oop_met": "how much has been paid toward the out-of-pocket maximum",
    "income_monthly": "household income per month",
    # circumstances
    "urgent": "true when waiting could seriously harm the person's health",
}

LIST_KEYS = frozenset({"amounts", "dates"})
MAX_LIST_ITEMS = 12


def merge_facts(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """The facts of several layers, lowest precedence first: later values win, lists are united in
    order, and an unknown (None, "", []) never erases a known value."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            if key in LIST_KEYS or isinstance(value, list):
                combined = list(merged.get(key) or []) + [v for v in (value or []) if v not in (None, "")]
                merged[key] = list(dict.fromkeys(combined))[-MAX_LIST_ITEMS:]
            elif value not in (None, "", []):
                merged[key] = value
    return merged


def known(facts: Mapping[str, Any], key: str) -> bool:
    return facts.get(key) not in (None, "", [])


def add_facts(current: Mapping[str, Any] | None, update: Mapping[str, Any] | None) -> dict[str, Any]:
    """The state channel's reducer: a node's facts merged over the conversation's so far."""
    return merge_facts(current, update)
