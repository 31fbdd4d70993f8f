"""Which retrieved documents belong to the answer: its intent, and the person's kind of plan.

A Marketplace answer does not cite the Medicare Part D page; an answer cites
at most three documents, the person's own among them when their search found
a passage.
"""

from __future__ import annotations

from typing import Any

MAX_SOURCES = 3
_MEDICARE = frozenset({"medicare"})
_MEDICAID = frozenset({"medicaid", "chip"})
_EMPLOYER = frozenset({"employer", None})
# Shipped documents that speak to some kinds of plan only (None: the kind is not known yet).
PLAN_SPECIFIC: dict[str, frozenset[str | None]] = {
    "medicare-appeals": _MEDICARE, "medicare-part-d-exceptions": _MEDICARE,
    "medicare-enrollment": _MEDICARE,
    "medicaid-appeals": _MEDICAID, "cobra-basics": _EMPLOYER, "state-continuation": _EMPLOYER,
    "cobra-or-marketplace": _EMPLOYER, "employer-plan-appeals": _EMPLOYER,
    "internal-appeals": frozenset({"employer", "marketplace", None}),
    "expedited-appeals": frozenset({"employer", "marketplace", None}),
    "denial-notice": frozenset({"employer", "marketplace", None}),
    "external-review": frozenset({"employer", "marketplace", None}),
    "marketplace-savings": frozenset({"marketplace", "uninsured", "medicaid", None, "employer"}),
    "open-enrollment": frozenset({"marketplace", "uninsured", None, "employer", "medicaid"}),
}


# The documents that speak to each topic (agents.topics), cited first when retrieved.
TOPIC_DOCS: dict[str, tuple[str, ...]] = {
    "newborn": ("special-enrollment-period",), "marriage": ("special-enrollment-period",),
    "move": ("special-enrollment-period",), "job_loss_enrollment": ("special-enrollment-period",
                                                                     "cobra-or-marketplace"),
    "medicaid_loss": ("special-enrollment-period", "medicaid-chip"), "medicaid_renewal": ("medicaid-chip",),
    "medicaid_eligibility": ("medicaid-chip",), "turning_26": ("young-adults",), "over_26": ("young-adults",),
    "medicare_enrollment": ("medicare-enrollment",), "medicare_working": ("medicare-enrollment",),
    "open_enrollment": ("open-enrollment",), "help_paying": ("marketplace-savings",),
    "fair_hearing": ("medicaid-appeals",), "expedited_appeal": ("expedited-appeals",),
    "external_review": ("external-review",), "appeal_letter": ("medical-necessity-letter", "internal-appeals"),
    "medical_necessity": ("medical-necessity-letter",), "er_denial": ("emergency-care",),
    "pa_timing": ("prior-authorization-timelines",), "pa_who": ("prior-authorization",),
    "pa_denied": ("prior-authorization", "internal-appeals"), "formulary_exception": ("formulary-exception",
                                                                                     "medicare-part-d-exceptions"),
    "step_therapy": ("step-therapy",), "tier": ("drug-formulary",), "part_d_cap": ("medicare-part-d-exceptions",),
    "surprise_bill": ("no-surprises-act",), "gfe_dispute": ("good-faith-estimate",),
    "financial_assistance": ("hospital-financial-assistance",), "itemized": ("billing-errors",),
    "collections": ("billing-errors",), "preventive": ("preventive-care",), "mental_health": ("mental-health-parity",),
    "continuity_of_care": ("provider-directory",), "network_gap": ("provider-directory",),
    "directory_error": ("provider-directory",), "cobra_cost": ("cobra-basics",), "cobra_duration": ("cobra-basics",),
    "cobra_small": ("state-continuation",), "cobra_vs_marketplace": ("cobra-or-marketplace",),
    "cobra_retire": ("cobra-or-marketplace",), "self_pay": ("good-faith-estimate",),
}


# The documents that explain each glossary term (agents.glossary), cited when the person asked what it is.
_COSTS = ("deductible-copay-coinsurance",)
_PLAN_TYPES = ("plan-types-overview", "referrals-and-plan-types")
TERM_DOCS: dict[str, tuple[str, ...]] = {
    "deductible": _COSTS, "coinsurance": _COSTS, "copay": _COSTS, "allowed_amount": _COSTS,
    "out_of_pocket_maximum": ("out-of-pocket-maximum",), "premium": ("summary-of-benefits",),
    "formulary": ("drug-formulary",), "prior_authorization": ("prior-authorization",),
    "peer_to_peer": ("prior-authorization",), "step_therapy": ("step-therapy",),
    "external_review": ("external-review",), "internal_appeal": ("internal-appeals",),
    "eob": ("explanation-of-benefits",), "balance_billing": ("no-surprises-act",), "cobra": ("cobra-basics",),
    "special_enrollment_period": ("special-enrollment-period",), "open_enrollment": ("open-enrollment",),
    "in_network": ("in-network-out-of-network",), "hmo_ppo": _PLAN_TYPES, "epo": _PLAN_TYPES,
    "good_faith_estimate": ("good-faith-estimate",), "self_funded": ("employer-plan-appeals",),
    "erisa": ("employer-plan-appeals",), "medicare_advantage": ("medicare-enrollment",),
    "fair_hearing": ("medicaid-appeals",), "medicare_medicaid": ("medicare-enrollment", "medicaid-chip"),
}


def relevant_documents(documents: list[dict[str, Any]], intent: str, facts: dict[str, Any],
                       topics: list[str] | None = None, limit: int = MAX_SOURCES,
                       terms: list[str] | None = None) -> list[dict[str, Any]]:
    """The documents that fit the plan: the topics' (and defined terms') own first, then others of the
    intent; at most `limit`."""
    plan = facts.get("plan_type")
    kept = []
    for doc in documents:
        plans = PLAN_SPECIFIC.get(str(doc.get("slug")))
        if plans is not None and plan not in plans:
            continue
        kept.append(doc)
    preferred = {slug for topic in topics or [] for slug in TOPIC_DOCS.get(topic, ())}
    preferred |= {slug for term in terms or [] for slug in TERM_DOCS.get(term, ())}
    own = [doc for doc in kept if doc.get("slug") in preferred]
    on_topic = [doc for doc in kept if doc not in own and (not doc.get("intents") or intent in doc["intents"])]
    # With the topic's own documents found, only those, and the passages of the person's own documents found
    # for the question (agents.personal), in the order they were ranked: sources that belong to the answer.
    chosen = [doc for doc in kept if doc in own or doc.get("personal")] if own else on_topic
    return (chosen or kept[:1])[:limit]
