"""The deadline rules of a case: which filings follow one another (its ladder of levels), how
long the person has to file each, and how long the plan (or the reviewer) has to decide.

The periods are those the conversation's playbooks state (agents/playbooks.py): an internal
appeal within 180 days of the denial notice, a decision in 30 days (care not yet received),
60 days (care received) or 72 hours (urgent), an external review within 4 months of the final
denial; Medicaid and Medicare have their own. Pure: no I/O, no clock (dates come in).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from agents.case.dates import display_date
from agents.dates import add_months

CASE_KINDS = ("appeal", "prior_authorization", "billing_dispute")
# Days before a filing deadline when the person is reminded.
REMINDER_DAYS = (14, 3)


@dataclass(frozen=True)
class Period:
    days: int = 0
    months: int = 0
    hours: int = 0

    def after(self, start: date) -> date:
        return add_months(start, self.months) + timedelta(days=self.days + self.hours // 24)

    def words(self) -> str:
        if self.hours:
            return f"{self.hours} hours"
        if self.months:
            return f"{self.months} months"
        return f"{self.days} days"


@dataclass(frozen=True)
class Level:
    """One filing on the ladder: what it is, who decides, and its two clocks."""

    name: str
    label: str  # "internal appeal"
    who: str  # who decides: "your plan"
    letter_title: str  # the drafted letter's subject
    file_within: Period | None  # from `starts_from`; None: no filing deadline
    starts_from: str  # what the filing period runs from, in words
    decide_standard: Period
    decide_pre_service: Period | None = None
    decide_post_service: Period | None = None
    decide_urgent: Period | None = None
    independent: bool = False  # decided outside the plan (external review, fair hearing)
    escalation: str = ""


_URGENT = Period(hours=72)
_EBSA = "the Department of Labor's EBSA (askebsa.dol.gov, 1-866-444-3272)"

INTERNAL_APPEAL = Level(
    name="internal_appeal", label="internal appeal", who="your plan", letter_title="Request for internal appeal",
    file_within=Period(days=180), starts_from="the denial notice",
    decide_standard=Period(days=30), decide_pre_service=Period(days=30), decide_post_service=Period(days=60),
    decide_urgent=_URGENT,
    escalation=("Plans that miss their decision deadline lose the right to make you wait: you can ask for an "
                "external review now. Call the plan's appeals unit for the status, and complain to your state "
                "insurance department (for an employer plan, also " + _EBSA + ")."))
EXTERNAL_REVIEW = Level(
    name="external_review", label="external review", who="the independent reviewer",
    letter_title="Request for external review", file_within=Period(months=4),
    starts_from="the final internal denial", decide_standard=Period(days=45), decide_urgent=_URGENT,
    independent=True,
    escalation=("Call the independent review organization named in your request, and your state insurance "
                "department's consumer assistance program, which helps for free."))
MEDICAID_APPEAL = Level(
    name="internal_appeal", label="plan appeal", who="your Medicaid plan", letter_title="Request for plan appeal",
    file_within=Period(days=60), starts_from="the date on the denial notice", decide_standard=Period(days=30),
    decide_urgent=_URGENT,
    escalation=("A Medicaid plan that misses its decision deadline lets you go straight to a state fair hearing: "
                "you can request one now. Your state's Medicaid ombudsman or local legal aid helps for free."))
FAIR_HEARING = Level(
    name="state_fair_hearing", label="state fair hearing", who="the state hearing officer",
    letter_title="Request for a state fair hearing", file_within=Period(days=120),
    starts_from="the plan's appeal decision", decide_standard=Period(days=90), decide_urgent=_URGENT,
    independent=True,
    escalation="Call your state Medicaid agency's hearing office for the status; local legal aid helps for free.")
MEDICARE_REDETERMINATION = Level(
    name="redetermination", label="redetermination (first Medicare appeal)", who="your Medicare plan or contractor",
    letter_title="Request for redetermination", file_within=Period(days=120),
    starts_from="receiving the Medicare notice", decide_standard=Period(days=60), decide_urgent=_URGENT,
    escalation=("Call 1-800-MEDICARE (1-800-633-4227) to ask how to move the appeal to the next level; your "
                "State Health Insurance Assistance Program (shiphelp.org) helps for free."))
MEDICARE_ADVANTAGE_RECONSIDERATION = Level(
    name="redetermination", label="plan reconsideration (first Medicare Advantage appeal)", who="your plan",
    letter_title="Request for reconsideration", file_within=Period(days=65), starts_from="the plan's decision",
    decide_standard=Period(days=30), decide_pre_service=Period(days=30), decide_post_service=Period(days=60),
    decide_urgent=_URGENT, escalation=MEDICARE_REDETERMINATION.escalation)
MEDICARE_RECONSIDERATION = Level(
    name="reconsideration", label="reconsideration by an independent contractor", who="the independent contractor",
    letter_title="Request for reconsideration", file_within=Period(days=180),
    starts_from="the first-level decision", decide_standard=Period(days=60), decide_urgent=_URGENT,
    independent=True, escalation=MEDICARE_REDETERMINATION.escalation)
TRICARE_RECONSIDERATION = Level(
    name="reconsideration", label="reconsideration (TRICARE)", who="TRICARE",
    letter_title="Request for reconsideration",
    file_within=Period(days=90), starts_from="the denial notice", decide_standard=Period(days=60),
    decide_urgent=_URGENT,
    escalation="Call your TRICARE regional contractor for the status; a TRICARE beneficiary counselor helps for free.")
VA_REVIEW = Level(
    name="higher_level_review", label="higher-level review (VA)", who="the VA", letter_title="Request for review",
    file_within=Period(months=12), starts_from="the decision", decide_standard=Period(days=125),
    escalation="Call the VA (1-800-827-1000) for the status; an accredited Veterans Service Officer helps for free.")
PRIOR_AUTHORIZATION = Level(
    name="prior_authorization", label="prior authorization request", who="your plan",
    letter_title="Request for prior authorization", file_within=None, starts_from="",
    decide_standard=Period(days=15), decide_urgent=_URGENT,
    escalation=("Call the plan's utilization management line for the status and ask for an expedited decision if "
                "waiting could harm your health; a plan that misses its deadline can be reported to your state "
                "insurance department."))
PRIOR_AUTHORIZATION_7_DAYS = replace(PRIOR_AUTHORIZATION, decide_standard=Period(days=7))
BILLING_DISPUTE = Level(
    name="billing_dispute", label="billing dispute", who="the billing office", letter_title="Dispute of charges",
    file_within=None, starts_from="", decide_standard=Period(days=30),
    escalation=("No answer in 30 days: call the billing office again, ask them to hold the account so it does "
                "not go to collections, and complain to your state insurance department or the No Surprises "
                "Help Desk (1-800-985-3059)."))
COMPLAINT = Level(
    name="complaint", label="complaint to the state insurance department", who="the state insurance department",
    letter_title="Consumer complaint about a medical bill", file_within=None, starts_from="",
    decide_standard=Period(days=60), independent=True,
    escalation="Call the state insurance department's consumer line and ask for the status of your complaint.")


def plan_family(facts: dict[str, Any]) -> str:
    plan = str(facts.get("plan_type") or "").lower()
    if plan in ("medicaid", "chip"):
        return "medicaid"
    if plan in ("medicare", "medicare_advantage"):
        advantage = plan == "medicare_advantage" or facts.get("plan_detail") in ("medicare_advantage", "part_d")
        return "medicare_advantage" if advantage else "medicare"
    if plan in ("tricare", "va"):
        return plan
    return "private"


def ladder(kind: str, facts: dict[str, Any]) -> list[Level]:
    """The filings of a case in order: each one's denial opens the next."""
    family = plan_family(facts)
    appeal = {"medicaid": [MEDICAID_APPEAL, FAIR_HEARING],
              "medicare": [MEDICARE_REDETERMINATION, MEDICARE_RECONSIDERATION],
              "medicare_advantage": [MEDICARE_ADVANTAGE_RECONSIDERATION, MEDICARE_RECONSIDERATION],
              "tricare": [TRICARE_RECONSIDERATION], "va": [VA_REVIEW],
              }.get(family, [INTERNAL_APPEAL, EXTERNAL_REVIEW])
    if kind == "prior_authorization":
        fast = family in ("medicaid", "medicare_advantage") or str(facts.get("plan_type")) == "marketplace"
        return [PRIOR_AUTHORIZATION_7_DAYS if fast else PRIOR_AUTHORIZATION, *appeal]
    if kind == "billing_dispute":
        return [BILLING_DISPUTE, COMPLAINT]
    return appeal


@dataclass(frozen=True)
class Deadline:
    name: str
    label: str
    due: date
    due_at: datetime | None  # for hour-based periods (72 hours), the instant
    rule: str

    def as_dict(self, status: str) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "due": self.due.isoformat(),
                "due_at": self.due_at.isoformat() if self.due_at else None, "rule": self.rule, "status": status}


def filing_deadline(level: Level, start: date | None, stated: date | None = None) -> Deadline | None:
    """When the filing at `level` is due: the date the plan's own letter states, else the rule's."""
    if level.file_within is None:
        return None
    if stated is not None:
        return Deadline(f"file_{level.name}", f"File your {level.label}", stated, None,
                        "the date your denial letter gives")
    if start is None:
        return None
    return Deadline(f"file_{level.name}", f"File your {level.label}", level.file_within.after(start), None,
                    f"{level.file_within.words()} from {level.starts_from} of {display_date(start)}")


def decision_period(level: Level, facts: dict[str, Any]) -> tuple[Period, str]:
    """How long the decider has after filing, and why that long."""
    if facts.get("urgent") and level.decide_urgent is not None:
        return level.decide_urgent, "urgent (expedited) requests"
    received = facts.get("care_received")
    if received is True and level.decide_post_service is not None:
        return level.decide_post_service, "care already received"
    if received is False and level.decide_pre_service is not None:
        return level.decide_pre_service, "care not yet received"
    if level.decide_pre_service is not None and level.decide_post_service is not None:
        return level.decide_pre_service, (f"care not yet received; {level.decide_post_service.words()} if it was "
                                          "already received: tell us")
    return level.decide_standard, "standard requests"


def decision_deadline(level: Level, facts: dict[str, Any], filed_on: date, filed_at: datetime) -> Deadline:
    """When `level.who` must decide, counted from the filing (hours from the moment, days from the date)."""
    period, why = decision_period(level, facts)
    if period.hours:
        due_at = filed_at + timedelta(hours=period.hours)
        return Deadline(f"{level.name}_decision", f"Decision on your {level.label}", due_at.date(), due_at,
                        f"{period.words()} from filing ({why})")
    return Deadline(f"{level.name}_decision", f"Decision on your {level.label}", period.after(filed_on), None,
                    f"{period.words()} from filing on {display_date(filed_on)} ({why})")
