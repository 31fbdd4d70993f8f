"""The deadlines and limits the answers quote, each once, each with the plans it applies to.

A rule is shown only for the person's kind of plan (no Medicare Part D
deadline in a Marketplace answer), and not when a sentence computed from the
person's own dates already says it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    text: str
    plans: frozenset[str | None] | None = None  # None: every plan; None inside: plan not known yet


PRIVATE = frozenset({"employer", "marketplace", None})
MEDICARE = frozenset({"medicare"})
MEDICAID = frozenset({"medicaid", "chip"})

RULES: dict[str, Rule] = {
    "internal_appeal": Rule("Internal appeal: within 180 days of receiving the denial notice.", PRIVATE),
    "external_review": Rule("External review: within 4 months after the final internal denial; the plan must "
                            "follow the independent reviewer's decision.", PRIVATE),
    "appeal_decision": Rule("The plan must decide an appeal within 72 hours if urgent, 30 days for care not yet "
                            "received, and 60 days for care already received.", PRIVATE),
    "expedited": Rule("Urgent (expedited) appeals: decided within 72 hours; an expedited external review can run at "
                      "the same time."),
    "medicare_redetermination": Rule("Original Medicare: ask for a redetermination within 120 days of receiving the "
                                     "Medicare Summary Notice.", MEDICARE),
    "ma_reconsideration": Rule("Medicare Advantage: ask the plan for a reconsideration within 65 days of its "
                               "decision; fast appeals are decided within 72 hours.", MEDICARE),
    "part_d_redetermination": Rule("Part D: ask the plan for a redetermination within 65 days of its coverage "
                                   "decision (72 hours standard, 24 hours expedited for the first decision).",
                                   MEDICARE),
    "medicaid_plan_appeal": Rule("Medicaid or CHIP plan appeal: within 60 days of the date on the notice.",
                                 MEDICAID),
    "medicaid_continue_benefits": Rule("To keep a service during the appeal: appeal within 10 days of the notice "
                                       "(or before the change takes effect).", MEDICAID),
    "fair_hearing": Rule("State fair hearing: within 120 days of the plan's appeal decision; for a decision by the "
                         "state agency (such as eligibility) the notice gives the deadline, up to 90 days.", MEDICAID),
    "tricare_reconsideration": Rule("TRICARE: ask for reconsideration within 90 days of the date on the decision.",
                                    frozenset({"tricare"})),
    "va_review": Rule("VA decisions: ask for a review within one year of the decision letter.", frozenset({"va"})),
    "pa_urgent": Rule("Urgent prior authorization requests: decided within 72 hours."),
    "pa_standard_7": Rule("Standard prior authorization requests: 7 calendar days for Medicare Advantage, Medicaid, "
                          "CHIP and HealthCare.gov Marketplace plans (from 2026).",
                          frozenset({"medicare", "medicaid", "chip", "marketplace", None})),
    "pa_standard_15": Rule("Standard prior authorization requests on employer plans: up to 15 days (one 15-day "
                           "extension, with notice).", frozenset({"employer", None})),
    "sep_marketplace": Rule("Marketplace special enrollment: 60 days after the qualifying event (for a coming loss "
                            "of coverage, up to 60 days before it).",
                            frozenset({"marketplace", "medicaid", "chip", "uninsured", None})),
    "sep_employer": Rule("Employer plans: at least 30 days after a birth, adoption, marriage or loss of other "
                         "coverage (60 days after losing Medicaid or CHIP).", frozenset({"employer", None})),
    "open_enrollment": Rule("Open enrollment on HealthCare.gov: November 1 to January 15 (enroll by December 15 for "
                            "coverage from January 1); state marketplaces may run longer.",
                            frozenset({"marketplace", "uninsured", None})),
    "medicaid_any_time": Rule("Medicaid and CHIP: apply any time of year."),
    "medicare_iep": Rule("Medicare initial enrollment: the 7 months around the month you turn 65 (3 months before, "
                         "that month, 3 months after)."),
    "medicare_working": Rule("Still working with employer coverage at 65 or later: you have 8 months after the job "
                             "or that coverage ends to sign up for Part B without a late penalty."),
    "medicaid_renewal": Rule("Medicaid renewal: return the form by the date on it; if coverage ends because it was "
                             "late, you have 90 days to send it and be reinstated (the reconsideration period).",
                             MEDICAID),
    "young_adult": Rule("Losing a parent's plan at 26 gives you 60 days to pick your own plan."),
    "cobra_election": Rule("COBRA election: 60 days from the later of the election notice or the end of coverage.",
                           frozenset({"employer", None})),
    "cobra_premium": Rule("First COBRA premium: within 45 days after you elect; later premiums have a 30-day grace "
                          "period.", frozenset({"employer", None})),
    "cobra_duration": Rule("COBRA lasts 18 months after a job loss or a cut in hours; 36 months for a spouse or child "
                           "after a divorce, a death or aging out; 29 months with a disability extension.",
                           frozenset({"employer", None})),
    "cobra_notice": Rule("The employer has 30 days to tell the plan, and the plan 14 days more to send the election "
                         "notice (44 days when the employer runs the plan itself).", frozenset({"employer", None})),
    "gfe_dispute": Rule("Good faith estimate dispute: a bill $400 or more above the estimate, within 120 days of the "
                        "bill."),
    "financial_assistance": Rule("Nonprofit hospitals' financial assistance: apply within 240 days of the first bill "
                                 "after you leave the hospital."),
    "formulary_exception": Rule("Drug exception requests: decided within 72 hours, or 24 hours when expedited."),
    "part_d_cap": Rule("Part D out-of-pocket limit for 2026: $2,100; after that you pay nothing for covered drugs "
                       "that year.", MEDICARE),
    "insulin_cap": Rule("Medicare: covered insulin costs at most $35 for a month's supply.", MEDICARE),
    "oop_limit": Rule("2026 limit on out-of-pocket maximums for Marketplace and most employer plans: $10,600 for one "
                      "person, $21,200 for a family.", frozenset({"employer", "marketplace", None})),
    "continuity_of_care": Rule("Continuity of care: when your doctor leaves the network during treatment, you can "
                               "usually keep seeing them at in-network rates for up to 90 days."),
    "job_waiting_period": Rule("Employer plans can make new employees wait no more than 90 days for coverage to "
                               "start (plus an orientation period of up to a month).",
                               frozenset({"employer", None})),
}


def rules_for(keys: list[str], plan: str | None, exclude: set[str]) -> list[str]:
    """The texts of the rules that apply to this plan, in order, once, except those already said."""
    texts: list[str] = []
    for key in dict.fromkeys(keys):
        rule = RULES.get(key)
        if rule is None or key in exclude or (rule.plans is not None and plan not in rule.plans):
            continue
        texts.append(rule.text)
    return texts
