"""Plain-language definitions, for when the person asks what something is.

A good navigator answers "what is a deductible?" with what a deductible is
before anything else; `definition_asked` finds the term in such a question.
"""

from __future__ import annotations

import re

# term: (how people write it, the definition)
TERMS: dict[str, tuple[str, str]] = {
    "deductible": (r"deductibles?|deductable",
                   "A deductible is what you pay for covered care each plan year before your plan starts to pay its "
                   "share. Many preventive services (check-ups, screenings, vaccines) are covered before you meet "
                   "it, and premiums do not count toward it."),
    "coinsurance": (r"co-?insurance",
                    "Coinsurance is your share of a covered service's allowed amount as a percentage (for example "
                    "20%), usually after you have met your deductible; the plan pays the rest."),
    "copay": (r"co-?pays?|co-?payments?",
              "A copay is a fixed amount (for example $30) you pay for a covered service such as a visit or a "
              "prescription, usually after the deductible for some services and before it for others."),
    "out_of_pocket_maximum": (r"out[- ]of[- ]pocket (max(imum)?|limit|cap)|oop max(imum)?|maximum out[- ]of[- ]pocket",
                              "The out-of-pocket maximum is the most you pay for covered, in-network care in a plan "
                              "year; after you reach it the plan pays 100%. Deductibles, copays and coinsurance count "
                              "toward it; premiums and care the plan does not cover do not. For 2026 it can be no "
                              "more than $10,600 for one person and $21,200 for a family on Marketplace and most "
                              "employer plans."),
    "premium": (r"premiums?",
                "A premium is what you pay every month to keep your insurance, whether or not you use care."),
    "formulary": (r"formulary|drug list",
                  "A formulary is the plan's list of covered prescription drugs, sorted into tiers that set what "
                  "you pay; a drug may also carry rules such as prior authorization or step therapy."),
    "prior_authorization": (r"prior auth\w*|pre-?auth\w*|pre-?certification|precert\w*|pre-?approval",
                            "Prior authorization (also called pre-approval or precertification) is the plan's approval "
                            "in advance of a service or drug; your doctor or provider usually asks for it and sends "
                            "the medical records."),
    "step_therapy": (r"step therapy",
                     "Step therapy means the plan wants you to try a cheaper drug first and covers the prescribed one "
                     "only if the first does not work; your prescriber can ask for an exception."),
    "external_review": (r"external review|independent review",
                        "An external review is a review of the plan's denial by an independent reviewer outside the "
                        "insurer; if the reviewer decides for you, the plan must pay."),
    "internal_appeal": (r"internal appeal",
                        "An internal appeal asks your plan to review and reconsider its own decision; it is the first "
                        "step after a denial."),
    "eob": (r"eob|explanation of benefits",
            "An explanation of benefits (EOB) is the plan's statement of what it did with a claim: what was billed, "
            "the allowed amount, what it paid and what you may owe. It is not a bill."),
    "balance_billing": (r"balance bill\w*",
                        "Balance billing is when a provider bills you for the difference between its charge and what "
                        "your plan paid (the rest of the bill). The No Surprises Act bans it for emergency care and "
                        "for most out-of-network care at in-network hospitals."),
    "cobra": (r"cobra",
              "COBRA is a federal law that lets you keep your employer's group health plan for a limited time after "
              "you lose it (job loss, fewer hours, divorce), usually paying the full premium."),
    "special_enrollment_period": (r"special enrollment( period)?|sep|qualifying (life )?event",
                                  "A special enrollment period is a time outside open enrollment when a qualifying "
                                  "life event (losing coverage, moving, marriage, a birth or adoption) lets you sign "
                                  "up for a plan: 60 days after the event on the Marketplace."),
    "open_enrollment": (r"open enrollment",
                        "Open enrollment is the yearly period when anyone can sign up for or change a plan."),
    "in_network": (r"in[- ]network|out[- ]of[- ]network|network",
                   "In-network providers have a contract with your plan and agreed, negotiated prices; out-of-network "
                   "providers do not, so they usually cost you more or are not covered at all."),
    "hmo_ppo": (r"hmo|ppo|epo|pos plan",
                "An HMO covers only its network (except emergencies) and usually needs a referral from your primary "
                "care doctor to see a specialist; a PPO also pays part of out-of-network care and needs no referral; "
                "an EPO covers only its network but needs no referrals; a POS plan needs referrals and pays some "
                "out-of-network care."),
    "peer_to_peer": (r"peer[- ]to[- ]peer",
                     "A peer-to-peer review is a call between your doctor and the plan's reviewing doctor (often a "
                     "medical director) to discuss a denial or a prior authorization before or instead of a formal "
                     "appeal."),
    "good_faith_estimate": (r"good[- ]faith estimate",
                            "A good faith estimate is a written estimate of expected charges that providers must give "
                            "people who are uninsured or paying for themselves, when care is scheduled or on "
                            "request."),
    "allowed_amount": (r"allowed amount",
                       "The allowed amount is the price your plan agreed with the provider for a covered service; "
                       "your cost sharing is figured from it, not from the provider's list price."),
    "self_funded": (r"self[- ]funded|self[- ]insured",
                    "A self-funded plan is paid for by the employer itself (an insurer may only run it). Federal law "
                    "(ERISA, the Department of Labor) regulates it instead of your state, which changes where you "
                    "complain and which state laws apply."),
    "medicare_advantage": (r"medicare advantage|part c",
                           "Medicare Advantage (Part C) is a private plan that replaces Original Medicare's Parts A "
                           "and B, usually with a network and its own rules."),
    "fair_hearing": (r"fair hearing",
                     "A fair hearing is a hearing before a state officer on a Medicaid or CHIP decision, after the "
                     "plan's appeal (or directly for a state eligibility decision)."),
    "hsa": (r"hsa|health savings account",
            "A health savings account (HSA) is a tax-free account you can open with a high-deductible health plan; "
            "you can spend it on deductibles, copays, coinsurance and prescriptions, and unused money stays yours."),
    "fsa": (r"fsa|flexible spending account",
            "A flexible spending account (FSA) is an employer account you fund from your pay before taxes to spend on "
            "medical costs such as copays and prescriptions; most of it must be used within the plan year."),
    "erisa": (r"erisa",
              "ERISA is the federal law that governs most employer health plans: it sets their appeal rules, and for "
              "self-funded plans it replaces state insurance law, with the U.S. Department of Labor overseeing "
              "them."),
    "medicare_medicaid": (r"medicare (and|vs\.?|or|versus) medicaid|medicaid (and|vs\.?|or|versus) medicare",
                          "Medicare is federal health insurance for people 65 and older and some younger people with "
                          "disabilities; Medicaid is a state and federal program for people with limited income, at "
                          "any age. Some people have both."),
    "epo": (r"epo",
            "An EPO (exclusive provider organization) covers care only from its network, except emergencies, and "
            "needs no referrals to see specialists."),
}
# The intent a question about each term belongs to (for the classifier).
TERM_INTENTS = {
    "deductible": "cost_estimate", "coinsurance": "cost_estimate", "copay": "cost_estimate",
    "out_of_pocket_maximum": "cost_estimate", "premium": "cost_estimate", "allowed_amount": "cost_estimate",
    "hsa": "cost_estimate", "fsa": "cost_estimate", "formulary": "prescription_drugs",
    "step_therapy": "prescription_drugs", "prior_authorization": "prior_authorization",
    "peer_to_peer": "prior_authorization", "external_review": "claim_denial_appeal",
    "internal_appeal": "claim_denial_appeal", "fair_hearing": "claim_denial_appeal", "eob": "billing_dispute",
    "balance_billing": "billing_dispute", "good_faith_estimate": "billing_dispute",
    "cobra": "continuation_coverage", "special_enrollment_period": "enrollment", "open_enrollment": "enrollment",
    "in_network": "find_provider",
}
_ASKING = re.compile(r"(?i)\b(what('?s| is| are| does)|whats|define|definition of|meaning of|explain|what do(es)? "
                     r"\w+ mean|difference between|vs\.?|versus|mean\??$)")


def terms_asked(question: str) -> list[str]:
    """The glossary terms a definitional question asks about, in the order written."""
    if not _ASKING.search(question):
        return []
    found = sorted((m.start(), term) for term, (pattern, _) in TERMS.items()
                   if (m := re.search(rf"(?i)\b({pattern})\b", question)))
    return [term for _, term in found]


def defined_terms(question: str) -> list[str]:
    """The terms a question asks to have defined, at most two ("copay vs coinsurance" asks two)."""
    terms = terms_asked(question)
    # "network" inside "in-network", or "hmo" in a question about EPOs: keep the more specific.
    if "epo" in terms and "hmo_ppo" in terms and not re.search(r"(?i)\b(hmo|ppo)\b", question):
        terms.remove("hmo_ppo")
    return terms[:2]


def definitions_asked(question: str) -> list[str]:
    """The definitions of those terms, in the order asked."""
    return [TERMS[term][1] for term in defined_terms(question)]
