"""The person's own dates and amounts turned into answers: deadlines as dates, waits against limits, costs.

Pure: facts in, sentences out. Each sentence carries the key of the rule it
applies, so the general rule is not repeated beside it ("each fact once").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from agents.dates import add_months, as_date, fmt, fmt_month, is_month_only, month_end

PLAN_LABELS = {
    "employer": "employer plan", "marketplace": "Marketplace plan", "medicare": "Medicare",
    "medicaid": "Medicaid", "chip": "CHIP", "tricare": "TRICARE", "va": "VA health care",
    "uninsured": "no insurance",
}
PRIVATE = {"employer", "marketplace", None}


@dataclass(frozen=True)
class Computed:
    key: str  # the rule it applies (see agents.rulebook.RULES)
    text: str


def _money(value: float) -> str:
    return f"${value:,.2f}".replace(".00", "")


def _soon(left: int) -> str:
    if left == 0:
        return " That is today."
    if 0 < left <= 14:
        return f" That is only {left} days away."
    return ""


def _days_left(deadline: date, today: date) -> str:
    left = (deadline - today).days
    if left < 0:
        return (f" That date has passed ({-left} days ago): ask the plan in writing to accept a late appeal for good "
                "cause, and call your state's consumer assistance program for help.")
    return _soon(left)


# After a missed enrollment window: what is still open (Medicaid and CHIP enroll all year).
def _late_employer(who: str) -> str:
    return (f"ask the employer's benefits office in writing whether the plan will still add {who} (some plans "
            "allow more time); if not, the plan's next open enrollment is the way in")


_LATE_MARKETPLACE = "the next way in is open enrollment (November 1 to January 15 on HealthCare.gov)"
_ALL_YEAR = " Medicaid and CHIP take applications all year."


def _window_left(deadline: date, today: date, late: str) -> str:
    """A note after an enrollment deadline: passed (and what is still open), today, or close."""
    left = (deadline - today).days
    if left < 0:
        return f" That date has passed ({-left} days ago): {late}.{_ALL_YEAR}"
    return _soon(left)


def _when(value: Any, what: str) -> str:
    day = as_date(value)
    return f"{fmt(day)}, when {what}" if day else str(value)


def appeal_deadlines(facts: dict[str, Any], today: date, topics: set[str]) -> list[Computed]:
    denied = as_date(facts.get("denial_date"))
    if denied is None or is_month_only(facts.get("denial_date")):
        return []
    plan, detail = facts.get("plan_type"), facts.get("plan_detail")
    received = _when(facts["denial_date"], "the denial arrived")
    found: list[Computed] = []
    if "external_review" in topics and plan in PRIVATE:
        deadline = add_months(denied, 4)
        return [Computed("external_review", f"Ask for the external review by {fmt(deadline)}: 4 months from the "
                                            f"final denial ({fmt(denied)}).{_days_left(deadline, today)}")]
    if plan in PRIVATE and plan != "uninsured":
        deadline = denied + timedelta(days=180)
        found.append(Computed("internal_appeal", f"Your internal appeal deadline is {fmt(deadline)}: 180 days from "
                                                 f"{received}.{_days_left(deadline, today)}"))
    elif plan == "medicare":
        if detail in (None, "original_medicare"):
            deadline = denied + timedelta(days=120)
            found.append(Computed("medicare_redetermination",
                                  f"Ask for a redetermination by {fmt(deadline)}: 120 days from {fmt(denied)}, when "
                                  "the Medicare Summary Notice arrived (Original Medicare)."
                                  f"{_days_left(deadline, today)}"))
        if detail in (None, "medicare_advantage", "part_d"):
            deadline = denied + timedelta(days=65)
            kind = "Part D" if detail == "part_d" else "Medicare Advantage"
            key = "part_d_redetermination" if detail == "part_d" else "ma_reconsideration"
            found.append(Computed(key, f"Appeal to your {kind} plan by {fmt(deadline)}: 65 days from {received}."
                                       f"{_days_left(deadline, today)}"))
    elif plan in ("medicaid", "chip"):
        keep = denied + timedelta(days=10)
        deadline = denied + timedelta(days=60)
        found.append(Computed("medicaid_plan_appeal", f"Appeal to your plan by {fmt(deadline)}: 60 days from "
                                                      f"{received}.{_days_left(deadline, today)}"))
        if keep >= today:
            found.append(Computed("medicaid_continue_benefits",
                                  f"To keep the service while you appeal, file by {fmt(keep)} (within 10 days of the "
                                  "notice) and say you want it to continue."))
    elif plan == "tricare":
        deadline = denied + timedelta(days=90)
        found.append(Computed("tricare_reconsideration", f"Ask TRICARE for reconsideration by {fmt(deadline)}: 90 "
                                                         f"days from {received}.{_days_left(deadline, today)}"))
    elif plan == "va":
        deadline = add_months(denied, 12)
        found.append(Computed("va_review", f"Ask for a review by {fmt(deadline)}: one year from the decision."))
    return found


def waiting_verdicts(facts: dict[str, Any], today: date, intent: str, question: str) -> list[Computed]:
    """A wait for a decision compared with the limit that applies."""
    plan = facts.get("plan_type")
    started = as_date(facts.get("request_date") if intent == "prior_authorization" else facts.get("appeal_date"))
    waited = facts.get("waiting_days") or ((today - started).days if started else None)
    if not waited:
        return []
    said = _wait_words(int(waited))
    urgent = bool(facts.get("urgent"))
    if intent == "prior_authorization":
        limit = 3 if urgent else (15 if plan in ("employer", None) else 7)
        kind = "an urgent request" if urgent else "a standard pre-service decision"
        unit = "72 hours" if urgent else (f"{limit} calendar days" if limit == 7 else f"{limit} days")
        where = f"on {_a(PLAN_LABELS[plan])}" if plan in PLAN_LABELS else "on an employer plan (7 days on Medicare " \
                                                                          "Advantage, Medicaid and Marketplace plans)"
        if waited > limit:
            return [Computed("pa_standard", f"{said} is past the limit of {unit} for {kind} {where}: ask the plan for "
                                            "the decision in writing, ask your doctor to request an expedited review "
                                            "if waiting harms your health, and file a complaint with "
                                            f"{_regulator(facts)}.")]
        if started:
            due = started + timedelta(days=limit)
            return [Computed("pa_standard", f"The plan has until {fmt(due)} to decide ({limit} days from "
                                            f"{fmt(started)}); call for the status with the reference number.")]
        return [Computed("pa_standard", f"{said} is within the limit of {unit} for {kind} {where}.")]
    if intent == "claim_denial_appeal":
        pre = bool(re.search(r"(?i)hasn'?t happened|not (had|happened) yet|before (the|my)|scheduled|need(s)? the|"
                             r"surgery|pre-?service|waiting to", question))
        limit = 3 if urgent else (30 if pre else 60)
        kind = "an urgent appeal" if urgent else ("an appeal of care not yet received" if pre
                                                  else "an appeal of care already received")
        if waited > limit:
            return [Computed("appeal_decision", f"{said} is past the limit of {limit} days for {kind}: the plan has "
                                                "missed its deadline, so you can ask for an external review now "
                                                f"and complain to {_regulator(facts)}.")]
        return [Computed("appeal_decision", f"{said} is within the limit of {limit} days for {kind}.")]
    return []


def _a(label: str) -> str:
    return ("an " if label[0].lower() in "aeiou" else "a ") + label


def _wait_words(days: int) -> str:
    if days % 7 == 0 and days >= 14:
        return f"{days // 7} weeks ({days} days)"
    return f"{days} days"


def _regulator(facts: dict[str, Any]) -> str:
    plan = facts.get("plan_type")
    if facts.get("plan_detail") == "self_funded":
        return "the U.S. Department of Labor (EBSA, 1-866-444-3272)"
    if plan == "medicare":
        return "1-800-MEDICARE"
    if plan in ("medicaid", "chip"):
        return "your state Medicaid agency"
    if plan == "employer":
        return "your state insurance department (the Department of Labor's EBSA if the plan is self-funded)"
    return "your state insurance department"


def enrollment_windows(facts: dict[str, Any], today: date) -> list[Computed]:
    event, plan = facts.get("event"), facts.get("plan_type")
    when = as_date(facts.get("event_date"))
    found: list[Computed] = []
    if event in ("birth", "adoption", "marriage") and when and not is_month_only(facts.get("event_date")):
        what = {"birth": "the birth", "adoption": "the adoption", "marriage": "the wedding"}[event]
        who = {"birth": "your baby", "adoption": "your child", "marriage": "your spouse"}[event]
        starts = " Coverage starts on the date of birth." if event == "birth" else \
            (" Coverage starts on the day of the adoption or placement." if event == "adoption" else "")
        employer, marketplace = when + timedelta(30), when + timedelta(60)
        if plan == "employer" or facts.get("plan_through") in ("own_job", "spouse"):
            found.append(Computed("sep_employer", f"Add {who} to your employer plan by {fmt(employer)}: "
                                                  f"employer plans must allow at least 30 days from {what}."
                                                  f"{starts}{_window_left(employer, today, _late_employer(who))}"))
        elif plan == "marketplace":
            found.append(Computed("sep_marketplace", f"Add {who} to your Marketplace plan by "
                                                     f"{fmt(marketplace)}: 60 days from {what}.{starts}"
                                                     f"{_window_left(marketplace, today, _LATE_MARKETPLACE)}"))
        elif plan not in ("medicaid", "chip"):
            found.append(Computed("sep_both", f"Deadline: {fmt(employer)} on an employer plan (30 days "
                                              f"from {what}), {fmt(marketplace)} on a Marketplace plan (60 "
                                              f"days).{starts}"
                                              f"{_window_left(marketplace, today, _LATE_MARKETPLACE)}"))
    loss = as_date(facts.get("coverage_end_date")) or (when if event in ("move", "job_loss", "coverage_loss",
                                                                       "medicaid_loss", "hours_cut") else None)
    if loss and event != "turning_65" and not is_month_only(facts.get("coverage_end_date") or facts.get("event_date")):
        what = "the move" if event == "move" else "the loss of coverage"
        if facts.get("plan_through") == "spouse" and event in ("job_loss", "coverage_loss"):
            found.append(Computed("sep_employer", f"Join your spouse's employer plan by {fmt(loss + timedelta(30))}: "
                                                  "30 days from the loss of your coverage."))
        found.append(Computed("sep_marketplace", f"Enroll in a Marketplace plan by {fmt(loss + timedelta(60))}: 60 "
                                                 f"days from {what} (you can also apply up to 60 days before)."
                                                 f"{_window_left(loss + timedelta(60), today, _LATE_MARKETPLACE)}"))
    if event == "turning_65" and when:
        # Born on the 1st: Medicare counts you 65 the day before, a month early.
        month = when - timedelta(days=1) if when.day == 1 and not is_month_only(facts.get("event_date")) else when
        start, end = add_months(month.replace(day=1), -3), month_end(*_year_month(add_months(month.replace(day=1), 3)))
        first = fmt_month(month.year, month.month)
        found.append(Computed("medicare_iep", f"Your Medicare initial enrollment period runs from {fmt(start)} to "
                                              f"{fmt(end)} (the 7 months around the month you turn 65); sign up in "
                                              f"the first 3 months so coverage starts in {first}."))
    if event == "turning_26" and when:
        end = month_end(when.year, when.month)
        found.append(Computed("young_adult", f"If the plan ends your coverage at the end of the month you turn 26 "
                                             f"({fmt(end)}), you have until {fmt(end + timedelta(60))} to pick a "
                                             "Marketplace plan, and you can apply up to 60 days before."))
    due = as_date(facts.get("due_date"))
    if due and plan in ("medicaid", "chip"):
        found.append(Computed("medicaid_renewal", f"Send the renewal by {fmt(due)}. If you miss it and coverage "
                                                  "ends, you have 90 days to return it and be reinstated without a new "
                                                  "application."))
    return found


def _year_month(day: date) -> tuple[int, int]:
    return day.year, day.month


def cobra_windows(facts: dict[str, Any], today: date) -> list[Computed]:
    notice = as_date(facts.get("notice_date"))
    lost = as_date(facts.get("coverage_end_date")) or as_date(facts.get("event_date"))
    found: list[Computed] = []
    later = max(d for d in (notice, lost) if d) if (notice or lost) else None
    if later and not is_month_only(facts.get("notice_date") or facts.get("coverage_end_date")
                                   or facts.get("event_date")):
        basis = "the notice" if later == notice else "the end of your coverage"
        note = "" if notice else " (counted from the notice instead if it comes later)"
        found.append(Computed("cobra_election", f"Elect COBRA by {fmt(later + timedelta(60))}: 60 days from {basis}, "
                                                f"{fmt(later)}{note}; then pay the first premium within 45 days of "
                                                "electing."))
    size = facts.get("employer_size")
    if isinstance(size, int) and size < 20:
        state = facts.get("state")
        local = {"CA": "California's Cal-COBRA covers employers with 2 to 19 employees, for up to 36 months",
                 "NY": "New York's continuation law covers small employers too, for up to 36 months"}.get(
            str(state), "most states have a 'mini-COBRA' (state continuation) law for small employers: ask the "
                        "insurer or your state insurance department")
        found.append(Computed("cobra_size", f"With {size} employees, federal COBRA does not apply (it covers "
                                            f"employers with 20 or more), but {local}."))
    return found


def costs(facts: dict[str, Any]) -> list[Computed]:
    found: list[Computed] = []
    price, deductible = facts.get("price"), facts.get("deductible")
    met = facts.get("deductible_met") or 0.0
    pct = facts.get("coinsurance_pct")
    if price and deductible is not None and pct is not None:
        toward = min(price, max(deductible - met, 0.0))
        share = toward + (price - toward) * pct / 100
        found.append(Computed("cost", f"Your estimate: {_money(toward)} toward the deductible (of {_money(deductible)}"
                                      f", {_money(met)} met) plus {pct:g}% of the remaining {_money(price - toward)}"
                                      f" = {_money(share)}, if {_money(price)} is the plan's allowed amount and the "
                                      "provider is in network."))
    elif price and pct is not None and deductible is None:
        found.append(Computed("cost", f"Your estimate: {pct:g}% of {_money(price)} = {_money(price * pct / 100)} once "
                                      "the deductible is met (more before it is)."))
    elif deductible and not price:
        left = max(deductible - met, 0.0)
        # A deductible read from a summary of benefits comes without what is met: no "$0 met" is assumed.
        paid = f" ({_money(met)} met so far)" if facts.get("deductible_met") is not None else ""
        upto = f"the next {_money(left)} of covered care" if paid else \
            f"the first {_money(deductible)} of covered care in the plan year"
        found.append(Computed("cost", f"With a {_money(deductible)} deductible{paid} you pay the plan's full allowed "
                                      f"amount for {upto}, then your copay or coinsurance until the out-of-pocket "
                                      "maximum; preventive care is covered before the deductible."))
    elif pct is not None and not price:
        found.append(Computed("cost", f"With {pct:g}% coinsurance you pay {pct:g}% of the allowed amount once the "
                                      "deductible is met (all of it before), up to your out-of-pocket maximum."))
    oop_max, oop_met = facts.get("oop_max"), facts.get("oop_met")
    if oop_max and oop_met is not None:
        left = max(oop_max - oop_met, 0.0)
        found.append(Computed("oop", f"You have {_money(left)} left before your {_money(oop_max)} out-of-pocket "
                                     f"maximum ({_money(oop_met)} paid): that is the most you would pay for covered, "
                                     "in-network care for the rest of the plan year."))
    copay, visits = facts.get("copay"), facts.get("visits")
    if copay and visits:
        found.append(Computed("cost", f"{visits} visits at a {_money(copay)} copay: {_money(copay * visits)}, if "
                                      "the deductible does not apply to them."))
    elif copay:
        found.append(Computed("cost", f"You pay the {_money(copay)} copay per visit (once the deductible is met, if it "
                                      "applies); the plan pays the rest of the allowed amount."))
    return found


def billing(facts: dict[str, Any]) -> list[Computed]:
    found: list[Computed] = []
    bill, estimate, owed = facts.get("bill_amount"), facts.get("estimate_amount"), facts.get("eob_owed")
    if bill and estimate:
        above = bill - estimate
        if above >= 400:
            found.append(Computed("gfe_dispute", f"The bill is {_money(above)} above the estimate: $400 or more, so "
                                                 "you can use the patient-provider dispute process within 120 days "
                                                 "of the bill's date (fee $25)."))
        elif above > 0:
            found.append(Computed("gfe_dispute", f"The bill is {_money(above)} above the estimate: under the $400 "
                                                 "threshold for the federal dispute process, so ask the provider to "
                                                 "explain and reduce it."))
    if bill and owed is not None and owed < bill:
        found.append(Computed("eob", f"Your explanation of benefits says you owe {_money(owed)}, not "
                                     f"{_money(bill)}: an in-network provider may bill you only what the EOB says; "
                                     "send the provider a copy and ask them to correct the bill."))
    return found


def computed_lines(intent: str, topics: set[str], facts: dict[str, Any], today: date,
                   question: str = "") -> list[Computed]:
    """Every sentence the person's facts make possible for this question."""
    found: list[Computed] = []
    if intent in ("claim_denial_appeal", "prior_authorization", "prescription_drugs"):
        if intent == "claim_denial_appeal" or "pa_denied" in topics:
            found += appeal_deadlines(facts, today, topics)
        found += waiting_verdicts(facts, today, intent, question)
    if intent in ("enrollment", "continuation_coverage", "coverage_check"):
        found += enrollment_windows(facts, today)
    if intent == "continuation_coverage" or "cobra" in question.lower():
        found += cobra_windows(facts, today)
    if intent in ("cost_estimate", "coverage_check", "billing_dispute"):
        found += costs(facts)
    if intent in ("billing_dispute", "cost_estimate"):
        found += billing(facts)
    seen: set[str] = set()
    return [c for c in found if not (c.text in seen or seen.add(c.text))]  # type: ignore[func-returns-value]
