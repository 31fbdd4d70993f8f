"""Rule-based intent classification, and which facts to ask for (the offline model's navigator).

Weighted regular expressions, tolerant of common misspellings; the highest
score wins, ties go to the more specific intent (earlier in PRIORITY).
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from agents.glossary import TERM_INTENTS, terms_asked
from agents.vocabulary import DRUG_NAMES, DRUG_PATTERN


class Searcher(Protocol):
    def search(self, text: str) -> object: ...


Pattern = tuple[Searcher, float]


def _p(regex: str, weight: float) -> Pattern:
    return re.compile(regex, re.IGNORECASE), weight


class OnOneLine:
    """Found when each of its expressions is found on one same line: what `(?=.*A).*B` says (`.`
    stops at a line break), without trying A again from every position of the text (that
    lookahead was most of the time of `score_intents`)."""

    def __init__(self, *regexes: str) -> None:
        self.patterns = [re.compile(regex, re.IGNORECASE) for regex in regexes]

    def search(self, text: str) -> bool:
        lines = text.split("\n") if "\n" in text else (text,)
        return any(all(pattern.search(line) for pattern in self.patterns) for line in lines)


INTENT_PATTERNS: dict[str, list[Pattern]] = {
    "claim_denial_appeal": [
        _p(r"\b(deni\w*|deny\w*|denyed|dennied|rejected|refus\w* to (pay|cover)|won'?t (pay|cover)|"
           r"turned down)\b", 2.0),
        _p(r"\b(appeal\w*|apeal\w*|appel\w*|apeel\w*|reconsider\w*|overturn\w*|fight (this|it|the)|"
           r"external review|independent review)\b", 3.0),
        _p(r"\b(medicare|part d)\b.{0,40}\bredetermination|\bredetermination\b.{0,40}\b(appeal|denied|denial)", 3.0),
        _p(r"\bnot medically necessary\b", 2.0),
        _p(r"\b(wasn'?t|isn'?t|not|was not|is not) (medically )?necessary\b", 2.5),
        _p(r"\b(stopped|cut|reduced|ended|terminated|took away|cutting|reducing) (her|his|my|our|their) (\w+ ){0,3}"
           r"(services?|aide|hours|care|benefits|therapy|nursing|treatment)\b", 2.5),
        _p(r"\bclaims?\b", 0.5),
        _p(r"\b(not ready to (go home|leave|be discharged)|discharg\w* (too soon|too early|me)|coverage ends "
           r"(tomorrow|today|on))\b", 3.0),
    ],
    "prior_authorization": [
        _p(r"\b(prior[- ]?auth\w*|pre[- ]?auth\w*|pre[- ]?approv\w*|prior approval|precert\w*|pre-?cert\w*|"
           r"authori[sz]ation|autorization|authori[sz]e)\b", 3.0),
        _p(r"\b(approv\w* (before|first|ahead)|before (the|my|i) (surgery|procedure|scan|mri))\b", 1.5),
        _p(r"\breferral\b", 1.0),
        _p(r"\b(hasn'?t|has not|haven'?t|have not|still not|not yet) (approved|authorized|decided|answered)|waiting "
           r"(on|for) (the )?approval\b", 2.5),
        _p(r"\b(peer[- ]to[- ]peer|(approved|authorized|allowed|covers?) (only )?\d+ (\w+ ){0,3}(visits|sessions)|"
           r"more (visits|sessions))\b", 3.0),
    ],
    "coverage_check": [
        _p(r"\b(cover|covers|covered|coverd|covr|covrage|coverage)\b", 1.5),
        _p(r"\b(does|do|is|are|will|would)\b.{0,50}\b(cover(s|ed)?|pay for|included|a covered)\b", 1.5),
        _p(r"\b(essential health benefits?|preventive (care|services?)|benefits? (include|cover))\b", 2.0),
        _p(r"\b(flu shot|vaccines?|mammogram|colonoscopy|screenings?|annual physical|check-?up)\b", 1.0),
        _p(r"\b(shot|vaccines?|physical|check-?up|screenings?|mammogram|colonoscopy|tests?|visits?|birth control|"
           r"exam|care)\b.{0,40}\b(free|at no cost|no copay)\b|\b(free|at no cost)\b.{0,40}\b(shot|vaccines?|"
           r"physical|check-?up|screenings?|mammogram|colonoscopy|visit|exam)\b", 2.0),
    ],
    "find_provider": [
        _p(r"\b(find|finding|looking for|locate|search(ing)? for|need a new|recommend|switch)\b.{0,40}"
           r"\b(doctor|dr|doc|physician|specialist|provider|therapist|counselor|dentist|pediatrician|"
           r"dermatologist|cardiologist|psychiatrist|surgeon|clinic|hospital|ob-?gyn|gyno?|urgent care|"
           r"pcp|primary care)s?\b", 3.5),
        _p(r"\b(in[- ]?network|innetwork|provider directory|network providers?)\b", 1.5),
        _p(r"\b(accept(s|ing)?|take(s)?|taking)\b.{0,25}\b(my )?(insurance|medicaid|medicare|chip|tricare|plan|"
           r"new patients|aetna|cigna|humana|kaiser|blue cross|united ?healthcare|anthem)\b", 2.5),
        _p(r"\b(doctors?|dentists?|pediatricians?|therapists?|specialists?|clinics?|providers?)\b.{0,15}\b(near me|"
           r"in my area|nearby|close to me)\b", 3.0),
        _p(r"\b((left|leaving|dropped out of|no longer in) (my |the )?(\w+ )?network|"
           r"(see|go to|use|visit|find|keep seeing) "
           r"(an? |my )?out[- ]of[- ]network)\b", 3.0),
    ],
    "cost_estimate": [
        _p(r"\b(how much|what will i pay|what would i pay|how expensive|what (will|would|do) i owe)\b", 2.5),
        _p(r"\b(cost|costs|price|prices|pricing|estimate|estimated|afford)\b", 2.0),
        _p(r"\bgood[- ]faith estimate\b", 1.5),
        _p(r"\b(deductible|deductable|copays?|co-pays?|copayment|coinsurance|co-insurance|"
           r"out[- ]of[- ]pocket( max\w*)?|premiums?)\b", 1.5),
        _p(r"\b(the )?most (i|you|we) (could|would|will|can|might) (pay|owe|be charged)\b|\b(max|maximum|cap|limit) "
           r"(on|of|to) (what|how much) (i|you|we) (pay|owe)", 2.5),
        _p(r"\ballowed amount\b", 2.0),
    ],
    "enrollment": [
        _p(r"\b(enrol\w*|sign(ing)? up|signup|open enrollment|special enrollment|sep)\b", 3.0),
        _p(r"\b(get|buy|find|need|apply for|purchase)\b.{0,20}\b(health )?(insurance|coverage|a plan|a policy)\b",
           2.0),
        _p(r"\b(apply|applying|qualify|eligible|eligibility)\b", 1.5),
        _p(r"\blost (my|our) (coverage|insurance|health insurance)\b", 1.5),
        _p(r"\b((job|coverage|insurance) (ends|is ending|will end)|won'?t be on (the|my|our) (\w+ )?(plan|"
           r"insurance))\b", 2.0),
        _p(r"\b(marketplace|healthcare\.gov|obamacare|exchange plan)\b", 1.5),
        _p(r"\b(had a baby|new baby|got married|getting married|turn(s|ed|ing)? 26|turn(s|ed|ing)? 65|"
           r"moved to|moving to)\b", 1.5),
        _p(r"\b(turn(s|ed|ing)? 26|stay on (my |our |his |her |their |a |the )?(\w+'s |parents'? )?(\w+ )?(plan|"
           r"insurance)|join (her|his|"
           r"my \w+'s|their) plan|get on (her|his|their) plan|add (me|him|her|them) to)\b", 3.0),
        _p(r"\b(renewal (form|packet|letter|notice)|(medicaid|chip|coverage|insurance|benefits) renewal|"
           r"renew (my |our )?"
           r"(medicaid|chip|coverage|insurance|benefits|plan))\b", 3.0),
        _p(r"\brenewal\b", 2.0),
        _p(r"\b((new|starting a|start(ing)? (my|a) new) job|new employer|benefits (begin|start|kick in)|(coverage|"
           r"insurance) (start|begin|kick)s? in|until (their|the|my new) (health )?insurance)\b", 2.5),
        _p(r"\b((get|qualify for|apply for|eligible for|sign up for) (medicaid|chip)|"
           r"(medicaid|chip) (is )?(ending|ends|"
           r"ended|will end|stopp\w+|cancell?ed|terminated)|lost (my |our )?(medicaid|chip)|put (him|her|them) (back )?"
           r"on (my|our)|back on (my|our) (\w+ )?(plan|insurance)|get my own( plan| insurance| coverage)?)\b", 3.0),
        _p(r"\b(medicaid|chip)\b.{0,30}\bredetermination|\bredetermination (paperwork|form|packet|notice|letter)", 3.0),
        _p(r"\b((was|were) born|baby (arrived|came|is here)|gave birth|newborn|add (him|her|them|the baby|the twins|"
           r"my (son|daughter|baby|wife|husband|spouse)))\b", 3.0),
        _p(r"\b((switch|change) (to )?(a |the |my |our )?(\w+ )?(plan|insurance)|(cheaper|better|different|new) "
           r"(health )?(plan|insurance))\b", 2.5),
        _p(r"\b((apply|sign up|enroll) (for|in) medicare|medicare (enrollment|sign ?up)|when (should|do|can) i "
           r"(apply|sign up|enroll))\b", 3.0),
        _p(r"\b(expecting (a baby|twins)|due date|(get|be) (on|added to) (my|his|her) \w+'?s? (plan|insurance))\b",
           2.0),
        _p(r"\b(medicaid|chip|medi-cal)\b", 0.5),
    ],
    "billing_dispute": [
        _p(r"\b(bill|bills|billed|billing|invoice|statement)\b", 1.5),
        _p(r"\b(surprise bill\w*|balance[- ]bill\w*|overcharg\w*|charged (me )?twice|double[- ]charg\w*|"
           r"billed twice|duplicate charge|no surprises act|collections?|itemi[sz]ed)\b", 3.0),
        _p(r"\b(dispute|disputing|contest|wrong|mistake|error|incorrect|too high|higher than)\b", 1.5),
        _p(r"\b(charges? for|charged (me|us)?|never (got|received|had)|eob|explanation of benefits)\b", 2.0),
        _p(r"\b(refund|money back|reimburse me|pay me back)\b", 2.0),
        _p(r"\b(should i pay|pay (it|this|the bill)|hasn'?t processed|still processing|charg(e|es|ing) "
           r"(me|us)|no[- ]show|facility fee)\b", 2.0),
        # A bill that exceeds an estimate is a dispute, not a request for an estimate.
        _p(r"\b(bill\w*|charged)\b.{0,60}\b(more than|higher than|above|over)\b.{0,40}\bestimate", 3.0),
        _p(r"\bestimate\b.{0,60}\b(bill|billed|charged)\b", 3.0),
    ],
    "prescription_drugs": [
        _p(r"\b(prescriptions?|perscriptions?|prescripton|rx|drugs?|medications?|medicaton|meds|pharmacy|"
           r"pharmacist|formulary|refill\w*|generic|brand[- ]name)\b", 2.0),
        _p(r"\b(part d|step therapy|formulary exception|tier(ed)? (exception|\d)|drug list|mail[- ]order)\b", 3.0),
        (DRUG_PATTERN, 3.5),
        _p(r"\b(pills?|goodrx|discount card|coupon)\b", 2.0),
        _p(r"\b(part d|drug plan|pharmacy)\b.{0,30}\bcover", 2.0),
        (OnOneLine(r"\b(" + DRUG_NAMES + r")s?\b",
                   r"\b(appeal\w*|denied|won'?t cover|not covered|exception|prior auth\w*)"), 2.0),
        _p(r"\b(drugs?|medications?|medicines?|prescriptions?)\b.{0,30}\bcover\w*|\bcover\w*\b.{0,40}\b(drugs?|"
           r"medications?|medicines?|prescriptions?)\b", 2.0),
    ],
    "continuation_coverage": [
        _p(r"\b(cobra|continuation coverage|mini-?cobra|state continuation)\b", 5.0),
        _p(r"\bkeep (my|our)\b.{0,25}\b(insurance|coverage|plan|benefits)\b", 3.0),
        _p(r"\b((husband|wife|spouse|partner) (died|passed away|passed)|death of (my|our))\b", 3.0),
        _p(r"\b(laid off|lay ?off|laying (me |us )?off|being laid off|quit my job|quitting|leaving my job|left my job|"
           r"lost my job|fired|last day (of work|at work)|retir\w*|hours (were )?cut)\b", 1.5),
        _p(r"\b(bridge (to|until) medicare|until (i get |i'm on |i am on )?medicare|before medicare|until (i'?m |i am |"
           r"i turn )?65|divorc\w*|legal separation)\b", 2.0),
    ],
}
# Ties go to the more specific intent.
PRIORITY = ["continuation_coverage", "prescription_drugs", "claim_denial_appeal", "prior_authorization",
            "billing_dispute", "find_provider", "enrollment", "cost_estimate", "coverage_check"]
MIN_SCORE = 1.5


def score_intents(text: str) -> dict[str, float]:
    scores: dict[str, float] = {}
    for intent, patterns in INTENT_PATTERNS.items():
        scores[intent] = sum(weight for pattern, weight in patterns if pattern.search(text))
    return scores


def classify_intent(text: str) -> tuple[str, float]:
    """(intent, confidence in [0, 1]); `other` when nothing scores enough."""
    scores = score_intents(text)
    # "What is a formulary?" belongs with drugs: a definition asked counts for its term's intent.
    for term in terms_asked(text)[:1]:
        if term in TERM_INTENTS:
            scores[TERM_INTENTS[term]] += 2.0
    best = max(PRIORITY, key=lambda intent: (scores[intent], -PRIORITY.index(intent)))
    total = sum(scores.values())
    if scores[best] < MIN_SCORE:
        return "other", 0.5
    return best, round(scores[best] / total, 2) if total else 0.0


REQUIRED_FACTS: dict[str, list[str]] = {
    # Appeal deadlines run from when the denial arrived and depend on the kind of plan.
    "claim_denial_appeal": ["denial_date", "plan_type"],
}


# Questions an appeal can be answered without knowing the plan (the rules are the same, or general).
ANSWERABLE_WITHOUT_PLAN = frozenset({"appeal_letter", "expedited_appeal", "external_review", "appeal_waiting",
                                     "er_denial", "medical_necessity", "fair_hearing", "appeal_by_doctor",
                                     "appeal_odds"})


def missing_facts(intent: str, facts: dict[str, Any], topics: list[str] | None = None) -> list[str]:
    """The facts to ask for before answering; none when the plan is known (a missing date is then asked
    for in the answer, not by stopping), or when the question is answerable without them."""
    required = REQUIRED_FACTS.get(intent, [])
    if not required or facts.get("plan_type") or ANSWERABLE_WITHOUT_PLAN & set(topics or []):
        return []
    return [name for name in required if not facts.get(name)]


FACT_QUESTIONS = {
    "denial_date": "when did the denial letter (or explanation of benefits) arrive",
    "plan_type": "what kind of plan is it: through an employer, the Marketplace (HealthCare.gov), Medicare, "
                 "or Medicaid",
}


def question_for(missing: list[str]) -> str:
    parts = [FACT_QUESTIONS[name] for name in missing if name in FACT_QUESTIONS]
    return ("To work out your deadlines I need two facts: " if len(parts) > 1 else "To work out your deadlines: ") \
        + "; and ".join(parts) + "?"
