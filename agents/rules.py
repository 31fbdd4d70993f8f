"""Rule-based intent classification and fact extraction (the offline model's navigator).

Weighted regular expressions, tolerant of common misspellings; the highest
score wins, ties go to the more specific intent (earlier in PRIORITY).
"""

from __future__ import annotations

import re
from typing import Any

Pattern = tuple[re.Pattern[str], float]


def _p(regex: str, weight: float) -> Pattern:
    return re.compile(regex, re.IGNORECASE), weight


INTENT_PATTERNS: dict[str, list[Pattern]] = {
    "claim_denial_appeal": [
        _p(r"\b(deni\w*|deny\w*|denyed|dennied|rejected|refus\w* to (pay|cover)|won'?t (pay|cover)|"
           r"turned down)\b", 2.0),
        _p(r"\b(appeal\w*|apeal\w*|appel\w*|apeel\w*|reconsider\w*|overturn\w*|fight (this|it|the)|"
           r"external review|independent review|redetermination)\b", 3.0),
        _p(r"\bnot medically necessary\b", 2.0),
        _p(r"\bclaims?\b", 0.5),
    ],
    "prior_authorization": [
        _p(r"\b(prior[- ]?auth\w*|pre[- ]?auth\w*|pre[- ]?approv\w*|prior approval|precert\w*|pre-?cert\w*|"
           r"authori[sz]ation|autorization|authori[sz]e)\b", 3.0),
        _p(r"\b(approv\w* (before|first|ahead)|before (the|my|i) (surgery|procedure|scan|mri))\b", 1.5),
        _p(r"\breferral\b", 1.0),
    ],
    "coverage_check": [
        _p(r"\b(cover|covers|covered|coverd|covr|covrage|coverage)\b", 1.5),
        _p(r"\b(does|do|is|are|will|would)\b.{0,50}\b(cover\w*|pay for|included|a covered)\b", 1.5),
        _p(r"\b(essential health benefits?|preventive (care|services?)|benefits? (include|cover))\b", 2.0),
    ],
    "find_provider": [
        _p(r"\b(find|finding|looking for|locate|search(ing)? for|need a new|recommend|switch)\b.{0,40}"
           r"\b(doctor|dr|doc|physician|specialist|provider|therapist|counselor|dentist|pediatrician|"
           r"dermatologist|cardiologist|psychiatrist|surgeon|clinic|hospital|ob-?gyn|gyno?|urgent care|"
           r"pcp|primary care)s?\b", 3.5),
        _p(r"\b(in[- ]?network|innetwork|provider directory|network providers?)\b", 1.5),
        _p(r"\b(accept(s|ing)?|take(s)?|taking)\b.{0,25}\b(my )?(insurance|medicaid|medicare|plan|new patients)\b",
           2.5),
    ],
    "cost_estimate": [
        _p(r"\b(how much|what will i pay|what would i pay|how expensive)\b", 2.5),
        _p(r"\b(cost|costs|price|prices|pricing|estimate|estimated|afford)\b", 2.0),
        _p(r"\bgood[- ]faith estimate\b", 1.5),
        _p(r"\b(deductible|deductable|copays?|co-pays?|copayment|coinsurance|co-insurance|"
           r"out[- ]of[- ]pocket( max\w*)?)\b", 1.5),
    ],
    "enrollment": [
        _p(r"\b(enrol\w*|sign(ing)? up|signup|open enrollment|special enrollment|sep)\b", 3.0),
        _p(r"\b(get|buy|find|need|apply for|purchase)\b.{0,20}\b(health )?(insurance|coverage|a plan|a policy)\b",
           2.0),
        _p(r"\b(apply|applying|qualify|eligible|eligibility)\b", 1.5),
        _p(r"\b(marketplace|healthcare\.gov|obamacare|exchange plan)\b", 1.5),
        _p(r"\b(had a baby|new baby|got married|getting married|turn(ed|ing)? 26|turn(ed|ing)? 65|"
           r"moved to|moving to)\b", 1.5),
        _p(r"\b(medicaid|chip|medi-cal)\b", 0.5),
    ],
    "billing_dispute": [
        _p(r"\b(bill|bills|billed|billing|invoice|statement)\b", 1.5),
        _p(r"\b(surprise bill\w*|balance[- ]bill\w*|overcharg\w*|charged (me )?twice|double[- ]charg\w*|"
           r"billed twice|duplicate charge|no surprises act|collections?|itemi[sz]ed)\b", 3.0),
        _p(r"\b(dispute|disputing|contest|wrong|mistake|error|incorrect|too high|higher than)\b", 1.5),
        # A bill that exceeds an estimate is a dispute, not a request for an estimate.
        _p(r"\b(bill\w*|charged)\b.{0,60}\b(more than|higher than|above|over)\b.{0,40}\bestimate", 3.0),
    ],
    "prescription_drugs": [
        _p(r"\b(prescriptions?|perscriptions?|prescripton|rx|drugs?|medications?|medicaton|meds|pharmacy|"
           r"pharmacist|formulary|refills?|generic|brand[- ]name)\b", 2.0),
        _p(r"\b(part d|step therapy|formulary exception|tier(ed)? (exception|\d)|drug list|mail[- ]order)\b", 3.0),
        _p(r"\b(insulin|ozempic|wegovy|mounjaro|humira|eliquis|metformin|adderall|lipitor|inhaler|epipen|"
           r"xarelto|jardiance|trulicity|zepbound|enbrel|dupixent|antidepressants?|zoloft|lexapro)\b", 2.0),
    ],
    "continuation_coverage": [
        _p(r"\b(cobra|continuation coverage|mini-?cobra|state continuation)\b", 5.0),
        _p(r"\bkeep (my|our)\b.{0,25}\b(insurance|coverage|plan|benefits)\b", 3.0),
        _p(r"\b(laid off|lay ?off|quit my job|quitting|leaving my job|left my job|lost my job|fired|"
           r"last day (of work|at work)|retir\w*|hours (were )?cut)\b", 1.5),
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
    best = max(PRIORITY, key=lambda intent: (scores[intent], -PRIORITY.index(intent)))
    total = sum(scores.values())
    if scores[best] < MIN_SCORE:
        return "other", 0.5
    return best, round(scores[best] / total, 2) if total else 0.0


PLAN_TYPES: list[tuple[str, re.Pattern[str]]] = [
    ("medicare", re.compile(r"(?i)\b(medicare|part [abd]\b|medigap|medicare advantage)")),
    ("medicaid", re.compile(r"(?i)\b(medicaid|medi-cal|masshealth|apple health|tenncare|soonercare|"
                            r"badgercare|husky)\b")),
    ("chip", re.compile(r"(?i)\b(chip|children'?s health insurance)\b")),
    ("marketplace", re.compile(r"(?i)\b(marketplace|healthcare\.gov|obamacare|aca plan|exchange|"
                               r"covered california|bought (it|the plan|my plan|insurance) (myself|on my own)|"
                               r"individual (plan|policy))\b")),
    ("employer", re.compile(r"(?i)\b(employer|through (my |our )?(work|job|company|husband'?s job|wife'?s job)|"
                            r"work (plan|insurance)|company (plan|insurance)|group (plan|health)|union|"
                            r"job'?s (plan|insurance)|cobra|self-funded|erisa)\b")),
    ("tricare", re.compile(r"(?i)\btricare\b")),
    ("va", re.compile(r"(?i)\b(va health|veterans affairs|va benefits)\b")),
    ("uninsured", re.compile(r"(?i)\b(uninsured|no insurance|don'?t have (health )?insurance|without insurance|"
                             r"self[- ]pay|paying cash)\b")),
]

STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID",
    "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI", "minnesota": "MN",
    "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY", "north carolina": "NC",
    "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA",
    "rhode island": "RI", "south carolina": "SC", "south dakota": "SD", "tennessee": "TN", "texas": "TX",
    "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA", "west virginia": "WV",
    "wisconsin": "WI", "wyoming": "WY", "district of columbia": "DC",
}
_STATE_NAME = re.compile(r"(?i)\b(" + "|".join(sorted(STATES, key=len, reverse=True)) + r")\b")
# Two-letter codes only in capitals after "in"/"from"/"live in", so "in OR" works but "or" does not.
_STATE_CODE = re.compile(r"\b(?:in|from|to|In|From)\s+(" + "|".join(sorted(set(STATES.values()))) + r")\b")

_MONTHS = r"(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t|tember)?|oct(ober)?|" \
          r"nov(ember)?|dec(ember)?)"
DATE_PATTERNS = [
    re.compile(r"(?i)\b" + _MONTHS + r"\.? \d{1,2}(st|nd|rd|th)?(,? \d{4})?\b"),
    re.compile(r"(?i)\b\d{1,2}(st|nd|rd|th)? (of )?" + _MONTHS + r"\b( \d{4})?"),
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    re.compile(r"\b\d{1,2}/\d{1,2}(/\d{2,4})?\b"),
    re.compile(r"(?i)\b(yesterday|today|last (week|month|monday|tuesday|wednesday|thursday|friday)|"
               r"(a|one|two|three|four|five|six|\d+) (days?|weeks?|months?) ago|this (week|month)|"
               r"earlier this (week|month))\b"),
    re.compile(r"(?i)\b(in|on|since|last) " + _MONTHS + r"\b"),
]
_AMOUNT = re.compile(r"(?i)(\$\s?\d[\d,]*(\.\d{2})?|\b\d[\d,]*(\.\d{2})? dollars\b)")

SERVICES = [
    "mri", "ct scan", "cat scan", "pet scan", "x-ray", "ultrasound", "mammogram", "colonoscopy", "surgery",
    "knee replacement", "hip replacement", "physical therapy", "chiropractor", "ambulance", "emergency room",
    "er visit", "urgent care", "therapy", "counseling", "mental health", "rehab", "sleep study", "blood test",
    "lab work", "labs", "ivf", "fertility", "maternity", "pregnancy", "birth", "c-section", "dental", "vision",
    "hearing aids", "wheelchair", "cpap", "insulin pump", "biopsy", "chemotherapy", "chemo", "radiation",
    "dialysis", "home health", "hospice", "skilled nursing", "nursing home", "vaccine", "flu shot",
    "checkup", "annual physical", "bariatric surgery", "gastric bypass", "hysterectomy", "vasectomy",
    "birth control", "telehealth", "allergy testing", "genetic testing", "speech therapy", "autism therapy",
    "aba therapy", "echocardiogram", "stress test", "endoscopy", "anesthesia", "specialist visit",
]
DRUGS = ["insulin", "ozempic", "wegovy", "mounjaro", "zepbound", "humira", "eliquis", "metformin", "adderall",
         "lipitor", "inhaler", "epipen", "xarelto", "jardiance", "trulicity", "enbrel", "dupixent", "zoloft",
         "lexapro", "antidepressant"]
_SERVICE = re.compile(r"(?i)\b(" + "|".join(re.escape(s) for s in sorted(SERVICES + DRUGS, key=len, reverse=True))
                      + r")s?\b")


_ACRONYMS = {"mri": "MRI", "ct scan": "CT scan", "cat scan": "CAT scan", "pet scan": "PET scan", "ivf": "IVF",
             "cpap": "CPAP", "er visit": "ER visit", "aba therapy": "ABA therapy", "epipen": "EpiPen"}


def _display(service: str) -> str:
    lowered = service.lower()
    return _ACRONYMS.get(lowered, lowered)


def extract_facts(text: str) -> dict[str, Any]:
    """Plan type, service or drug, state, dates and amounts mentioned in the text."""
    plan_type = next((name for name, pattern in PLAN_TYPES if pattern.search(text)), None)
    state_match = _STATE_NAME.search(text)
    state = STATES[state_match.group(1).lower()] if state_match else None
    if state is None:
        code = _STATE_CODE.search(text)
        state = code.group(1) if code else None
    spans: list[tuple[int, int]] = []
    for pattern in DATE_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if not any(start < seen_end and seen_start < end for seen_start, seen_end in spans):
                spans.append((start, end))
    dates = [text[start:end].strip() for start, end in sorted(spans)]
    amounts = [m.group(0).strip() for m in _AMOUNT.finditer(text)]
    service = _SERVICE.search(text)
    return {
        "plan_type": plan_type,
        "service": _display(service.group(1)) if service else None,
        "state": state,
        "dates": dates,
        "amounts": amounts,
    }


REQUIRED_FACTS: dict[str, list[str]] = {
    # Appeal deadlines run from when the denial arrived and depend on the kind of plan.
    "claim_denial_appeal": ["denial_date", "plan_type"],
}


def missing_facts(intent: str, facts: dict[str, Any]) -> list[str]:
    return [name for name in REQUIRED_FACTS.get(intent, []) if not facts.get(name)]


def merge_facts(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """New values win; lists are united in order; unknowns never erase knowns."""
    merged = dict(old)
    for key, value in new.items():
        if isinstance(value, list):
            merged[key] = list(dict.fromkeys(list(old.get(key) or []) + value))
        elif value not in (None, ""):
            merged[key] = value
    return merged


FACT_QUESTIONS = {
    "denial_date": "when did the denial letter (or explanation of benefits) arrive",
    "plan_type": "what kind of plan is it: through an employer, the Marketplace (HealthCare.gov), Medicare, "
                 "or Medicaid",
}


def question_for(missing: list[str]) -> str:
    parts = [FACT_QUESTIONS[name] for name in missing if name in FACT_QUESTIONS]
    return ("To work out your deadlines I need two facts: " if len(parts) > 1 else "To work out your deadlines: ") \
        + "; and ".join(parts) + "?"
