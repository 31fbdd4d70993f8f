"""The strategy agent's drafted letter for the filing at hand: an internal appeal, an external
review request (or its Medicaid / Medicare equivalent), a prior authorization request, a billing
dispute or a complaint.

`compose_letter` writes it offline from the facts (what the offline model answers to the
`letter` task); with a remote model the same payload goes to the model with LETTER_PROMPT. What
is not known is left in [brackets] for the person to fill in before they send it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from agents.case.dates import display_date
from agents.prompts import TASK_PREFIX

LETTER_PROMPT = TASK_PREFIX + """letter
Write the letter described by the JSON: a formal letter from the person to the addressee, about the
filing named in "level" ("title" is its subject). Include: the person's name, member ID, plan and claim
numbers, the service and the date of the denial or decision, why the service is medically necessary or
covered (quote "plan_wording" and "reason" exactly when given, with their source), what is enclosed, the
request, and the deadline. Use only the facts given; leave anything unknown in [square brackets] for the
person to fill in. Plain text, no markdown."""

PLACEHOLDERS = {"member_name": "[Your full name]", "member_id": "[Member ID from your insurance card]",
                "claim_number": "[Claim or reference number]", "insurer": "[Insurance company]",
                "address": "[Your address, phone and email]"}
MAX_QUOTE_CHARS = 400


def _quote(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_QUOTE_CHARS else text[: MAX_QUOTE_CHARS - 1].rstrip() + "…"


def _fact(payload: dict[str, Any], name: str) -> str:
    facts = payload.get("facts") or {}
    value = facts.get(name)
    return str(value) if value not in (None, "") else PLACEHOLDERS.get(name, f"[{name.replace('_', ' ')}]")


def _date_text(value: object) -> str:
    if isinstance(value, str) and value:
        try:
            return display_date(date.fromisoformat(value[:10]))
        except ValueError:
            return value
    return "[date]"


def _addressee(payload: dict[str, Any]) -> list[str]:
    facts = payload.get("facts") or {}
    level = payload.get("level")
    if level in ("external_review", "state_fair_hearing", "reconsideration", "complaint"):
        state = facts.get("state")
        where = {"external_review": "External Review / Independent Review Organization",
                 "state_fair_hearing": "State Fair Hearing Office, State Medicaid Agency",
                 "reconsideration": "Qualified Independent Contractor (as named in the decision letter)",
                 "complaint": "Consumer Services, State Insurance Department"}[str(level)]
        return [where + (f" ({state})" if state else ""), "[Address from the decision letter or the state's website]"]
    if level == "billing_dispute":
        return [str(facts.get("provider") or "[Provider's billing office]"), "[Billing office address]"]
    lines = [_fact(payload, "insurer"), "Attn: Appeals Unit" if level != "prior_authorization"
             else "Attn: Utilization Management"]
    address = facts.get("appeal_address")
    lines.append(str(address) if address else "[Appeals address from the denial letter]")
    return lines


def _why(payload: dict[str, Any]) -> list[str]:
    facts = payload.get("facts") or {}
    service = _fact(payload, "service")
    paragraphs = []
    reason = payload.get("reason") or facts.get("reason")
    if reason:
        paragraphs.append(f"The denial states: \"{_quote(reason)}\" I disagree, for the reasons below.")
    paragraphs.append(
        f"My doctor ordered {service} because [describe your condition, the symptoms, and what the doctor expects "
        f"{service} to show or treat]. {service[0].upper() + service[1:]} is medically necessary: [treatments "
        "already tried and their results; why waiting or an alternative is not appropriate]. My doctor's letter "
        "of medical necessity, enclosed, explains this in detail.")
    for wording in payload.get("plan_wording") or []:
        source = wording.get("source") or "my plan's documents"
        page = f", page {wording['page']}" if wording.get("page") else ""
        paragraphs.append(f"My plan's own terms support coverage. {source}{page} says: \"{_quote(wording['text'])}\"")
    return paragraphs


def _enclosures(payload: dict[str, Any]) -> list[str]:
    level = payload.get("level")
    items = []
    if level in ("billing_dispute", "complaint"):
        items += ["Copy of the bill and the itemized statement", "Explanation of benefits for the claim"]
    elif level == "prior_authorization":
        items += ["Doctor's order and letter of medical necessity", "Relevant medical records"]
    else:
        items += [f"Copy of the {'decision' if payload.get('previous_decision') else 'denial'} letter",
                  "Letter of medical necessity from my doctor", "Relevant medical records and test results"]
    for document in payload.get("documents") or []:
        name = document.get("filename")
        if name and all(name not in item for item in items):
            items.append(f"{document.get('label') or 'Document'}: {name}")
    return items


def _request(payload: dict[str, Any]) -> list[str]:
    level = payload.get("level")
    service = _fact(payload, "service")
    deadline = payload.get("deadline") or {}
    decide = payload.get("decide_within") or ""
    lines = []
    if level == "billing_dispute":
        lines.append(f"Please review the charges for {service}, correct the errors, send me an itemized statement, "
                     "and hold the account (no collections) while this dispute is reviewed.")
    elif level == "complaint":
        lines.append(f"Please investigate the charges for {service} and help me resolve this dispute.")
    elif level == "prior_authorization":
        lines.append(f"Please authorize {service}.")
    else:
        previous = payload.get("previous_decision") or {}
        against = f"the decision of {_date_text(previous.get('decided_on'))}" if previous else \
            f"the denial of {_date_text((payload.get('facts') or {}).get('denial_date'))}"
        lines.append(f"Please reverse {against} and approve coverage of {service}.")
    if payload.get("urgent"):
        lines.append("Because waiting could seriously jeopardize my life, health or ability to regain maximum "
                     "function, I ask for an expedited (urgent) decision, within 72 hours.")
    elif decide:
        lines.append(f"Please send me your decision in writing within {decide}, as the rules require.")
    if deadline.get("due"):
        rule = f" ({deadline['rule']})" if deadline.get("rule") else ""
        lines.append(f"This request is made within the time allowed: the deadline is {_date_text(deadline['due'])}"
                     f"{rule}.")
    return lines


def compose_letter(payload: dict[str, Any]) -> str:
    """The letter as plain text (paragraphs separated by blank lines; lines wrapped by the reader)."""
    facts = payload.get("facts") or {}
    service = _fact(payload, "service")
    header = [_fact(payload, "member_name"), _fact(payload, "address"), "",
              _date_text(payload.get("drafted_on")), "", *_addressee(payload), ""]
    reference = [f"Re: {payload.get('title') or 'Appeal'}",
                 f"Member: {_fact(payload, 'member_name')}    Member ID: {_fact(payload, 'member_id')}",
                 f"Plan: {facts.get('plan_name') or facts.get('plan_label') or '[Plan name]'}    "
                 f"Claim number: {_fact(payload, 'claim_number')}",
                 f"Service: {service}" + (f"    Date of service: {_date_text(facts['service_date'])}"
                                          if facts.get("service_date") else ""),
                 f"Date of the denial notice: {_date_text(facts.get('denial_date'))}" if facts.get("denial_date")
                 else "Date of the denial notice: [date]"]
    previous = payload.get("previous_decision")
    if previous:
        reference.append(f"Date of the {previous.get('label', 'decision')}: {_date_text(previous.get('decided_on'))}")
    level = payload.get("level")
    if level == "billing_dispute":
        opening = f"I am writing to dispute the charges billed for {service}."
    elif level == "complaint":
        opening = f"I am writing to file a complaint about a bill for {service} that I have not been able to resolve."
    elif level == "prior_authorization":
        opening = f"I am writing to request prior authorization for {service}, which my doctor has ordered."
    elif previous:
        label = str(payload.get("level_label") or "review")
        article = "an" if label[:1].lower() in "aeiou" else "a"
        opening = (f"I am writing to request {article} {label} of the decision dated "
                   f"{_date_text(previous.get('decided_on'))} that upheld the denial of coverage for {service}.")
    else:
        opening = (f"I am writing to appeal the decision dated {_date_text(facts.get('denial_date'))} to deny "
                   f"coverage for {service} (claim {_fact(payload, 'claim_number')}).")
    body = [opening, *(_why(payload) if level not in ("billing_dispute", "complaint") else
                       ["The charges are wrong because [describe the error: billed twice, a service not received, "
                        "more than the estimate, an out-of-network bill you are protected from]."]),
            *_request(payload)]
    enclosures = ["Enclosed:", *(f"- {item}" for item in _enclosures(payload))]
    closing = ["Sincerely,", "", _fact(payload, "member_name")]
    paragraphs = ["\n".join(header).strip("\n"), "\n".join(reference), "Dear Reviewer,", *body,
                  "\n".join(enclosures), "\n".join(closing)]
    return "\n\n".join(paragraphs) + "\n"

