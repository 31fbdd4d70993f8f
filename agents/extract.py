"""Fact extraction by rules (the offline model's reading of what the person said).

Returns the keys of `agents.facts.FACT_KEYS` that the text states, and only
those: plan, insurer, state, the service or the drug as named, dates by what
they are (a denial letter, a birth, a renewal due date), waits, and amounts
by what they are (a deductible, a bill, an estimate).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from agents.dates import duration_days, find_dates
from agents.vocabulary import (
    DRUG_PATTERN,
    INSURER_PATTERNS,
    MOVED_TO_STATE,
    PLAN_DETAILS,
    PLAN_TYPES,
    SERVICE_PATTERN,
    STATE_CODE,
    STATE_NAME,
    STATES,
    display_drug,
    display_service,
)

DENIAL_WORDS = re.compile(r"(?i)\b(deni\w*|deny\w*|reject\w*|refus\w*|turned down|upheld|said no|won'?t (pay|cover)|"
                          r"not medically necessary|will not (pay|cover)|declined)\b")

_EVENTS: list[tuple[str, re.Pattern[str]]] = [
    ("birth", re.compile(r"(?i)\b(had (a|our|my|the) baby|baby (arrived|came|is here)|"
                         r"baby (was|is) born|(son|daughter|baby|twins|she|he) "
                         r"(was|were) born|born on|newborn|gave birth|new baby|just had a baby|delivered)\b")),
    ("adoption", re.compile(r"(?i)\b(adopt\w*|foster placement)\b")),
    ("marriage", re.compile(r"(?i)\b(got married|getting married|marri(ed|age)|wedding)\b")),
    ("divorce", re.compile(r"(?i)\b(divorc\w*|legal separation)\b")),
    ("turning_65", re.compile(r"(?i)\b(turn(ing|ed|s)? 65|65th birthday)\b")),
    ("turning_26", re.compile(r"(?i)\b(turn(ing|ed|s)? 26|26th birthday)\b")),
    ("medicaid_loss", re.compile(r"(?i)\b(lost (my |our |his |her )?medicaid|medicaid (ends|ended|will end|is ending|"
                                 r"was cancell?ed|cancell?ed|was terminated|stops|stopped|cut off))\b")),
    ("move", re.compile(r"(?i)\b(mov(e|ed|ing) (to|from|out|across|states)|relocat\w*|moved)\b")),
    ("hours_cut", re.compile(r"(?i)\b(hours (were |got |have been )?(cut|reduced)|reduced (my )?hours)\b")),
    ("retirement", re.compile(r"(?i)\b(retir\w*)\b")),
    ("job_loss", re.compile(r"(?i)\b(laid off|lay ?off|lost (my|his|her) job|fired|let go|quit(ting)? my job|"
                            r"leaving my job|left my job|last day (of work|at work|was)|job ends?)\b")),
    ("coverage_loss", re.compile(r"(?i)\b(lost (my|our|his|her) (coverage|insurance|health insurance)|"
                                 r"(coverage|insurance|plan) (ends|ended|will end|is ending|stops|terminates|"
                                 r"terminated|runs out)|lose (my|our|his|her) (coverage|insurance)|"
                                 r"insurance\b.{0,40}\blost (mine|it))\b")),
]

# Which role a date has, from the words around it; the direction says where an undated year goes.
_ROLES: list[tuple[str, str, re.Pattern[str]]] = [
    ("due_date", "future", re.compile(r"(?i)\b(due|deadline|return (it|the form|the packet)? ?by|send it by|"
                                      r"respond by)\b")),
    ("appeal_date", "past", re.compile(r"(?i)\b(appealed|filed (the|an|my) appeal|(sent|submitted|mailed) "
                                       r"(the|my|an) appeal)\b")),
    ("request_date", "past", re.compile(r"(?i)\b((submitted|requested|sent|faxed|filed) (the |my |a )?(prior "
                                        r"auth\w*|pre-?auth\w*|request|authorization)|(prior auth\w*|authorization|"
                                        r"request)\b.{0,30}\b(submitted|sent|requested|filed|went in|was sent))\b")),
    ("event_date", "past", re.compile(r"(?i)\b(born|birth|had (a|our|my|the) baby|(baby|son|daughter|twins) (arrived|"
                                      r"came)|delivered|adopted|got married|"
                                      r"laid off|lost (my|his|her) job|fired|let go|last day|moved|retired|"
                                      r"lost (mine|it|my coverage|my insurance|coverage))\b")),
    ("event_date", "future", re.compile(r"(?i)\b(turn|turning|birthday|moving|getting married|retire|retiring|"
                                        r"start(s|ing)? (my )?(new )?job|will move)\b")),
    ("coverage_end_date", "nearest", re.compile(r"(?i)\b(ends?|ended|ending|end on|cancell?ed|terminat\w*|"
                                                r"stops?|stopped|runs out|cut off)\b")),
    ("notice_date", "past", re.compile(r"(?i)\b(letter|notice|eob|dated|came|arrived|received|got (it|the letter|"
                                       r"a letter|the notice)|decision|denied|denial|rejected|upheld|said no|mail)\b")),
]
_CLAUSE = re.compile(r"[.;!?]|,\s*(?:and |but )?(?=\w)|\b(?:but|because|and then|and)\b")

_WAITING = re.compile(r"(?i)\b(pending|waiting|waited|been|sitting|for|in|over)( for)?( the (last|past))? "
                      r"(?P<count>\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten) "
                      r"(?P<unit>days?|weeks?|months?)\b(?! ago)")
_MONEY = re.compile(r"(?i)(\$\s?\d{1,3}(?:,\d{3})+(?:\.\d{2})?|\$\s?\d+(?:\.\d{2})?(?:k\b)?|"
                    r"\b\d{1,3}(?:,\d{3})*(?:\.\d{2})? dollars\b)")
_OOP_WORDS = re.compile(r"(?i)\b(out[- ]of[- ]pocket|oop)\b")
_PERCENT = re.compile(r"(?i)\b(\d{1,2})\s?(%|percent)")
# label: (words just before the amount, words just after it); the first label that fits wins.
_AMOUNT_LABELS: list[tuple[str, str | None, str | None]] = [
    ("paid_so_far", r"(met|paid|spent|put|used|reached)( about| around| only)?",
     r"(so far|toward|towards|of (it|the deductible|the max)|met|already|this year)"),
    ("oop_max", r"(out[- ]of[- ]pocket|oop)( max(imum)?| limit| cap)?( on my plan)?( is| of)?",
     r"(out[- ]of[- ]pocket|oop) (max|maximum|limit)"),
    ("deductible", r"(deductible|deductable)( is| of)?", r"(deductible|deductable)"),
    ("copay", r"(copay|co-pay|copayment)( is| of)?", r"(copay|co-pay|copayment)"),
    ("premium", r"(premium)( is| of)?", r"(a month in premium|premium)"),
    ("estimate_amount", r"(estimate|quoted?|quote)\w*( said| was| of| is| for)?( only)?", r"(estimate)"),
    ("eob_owed", r"(eob|explanation of benefits)[^$]{0,30}(owe|responsibility)\w*( is| of)?", None),
    ("income_monthly", r"(making|make|earn|earning|income( is)?)", r"(a|per) month"),
    ("bill_amount", r"(bill(ed)?( me| us)?( is| was| for| of| came to| totals?| totaled)?|"
                    r"charged( me| us)?|invoice( for)?|owe)( about| around)?",
     r"(bill|invoice|more than|charge)"),
    ("price", r"(costs?|price( is)?|is|are|runs|charges?|for)( about| around)?", None),
]


def money_value(text: str) -> float:
    """'$1,250.00' -> 1250.0; '$2k' -> 2000.0."""
    lowered = text.lower().strip()
    digits = re.sub(r"[^\d.]", "", lowered)
    value = float(digits) if digits else 0.0
    return value * 1000 if lowered.endswith("k") else value


def _labelled(before: str, after: str) -> str | None:
    for label, left, right in _AMOUNT_LABELS:
        if left and re.search(rf"(?i)\b{left}\s*$", before):
            return label
        if right and re.match(rf"(?i)\s*{right}", after):
            return label
    return None


def _amounts(text: str) -> dict[str, Any]:
    found: dict[str, Any] = {"amounts": [m.group(0).strip() for m in _MONEY.finditer(text)]}
    for match in _MONEY.finditer(text):
        label = _labelled(text[max(0, match.start() - 60):match.start()], text[match.end():match.end() + 40])
        if label == "paid_so_far":
            # Paid toward what: the out-of-pocket maximum when the message speaks of one, else the deductible.
            label = "oop_met" if _OOP_WORDS.search(text) and not re.search(r"(?i)deductible", text[
                max(0, match.start() - 80):match.end() + 30]) else "deductible_met"
        if label and label not in found:
            found[label] = money_value(match.group(0))
    percent = _PERCENT.search(text)
    if percent and re.search(r"(?i)coinsurance|co-insurance|%\s*(after|of)|percent", text):
        found["coinsurance_pct"] = float(percent.group(1))
    visits = re.search(r"(?i)\b(\d{1,3}) (\w+ ){0,2}(visits|sessions|fills|refills|appointments)\b", text)
    if visits:
        found["visits"] = int(visits.group(1))
    return found


def _role_of(text: str, start: int, end: int) -> tuple[str, str]:
    """(role, direction) of the date at [start, end): from the few words just before it, else its clause."""
    left = _CLAUSE.split(text[:start])[-1]
    right = _CLAUSE.split(text[end:])[0]
    for context in (" ".join(left.split()[-5:]), f"{left} {right}"):
        for role, direction, pattern in _ROLES:
            if pattern.search(context):
                return role, direction
    return "dates", "past"


def _dates(text: str, today: date) -> dict[str, Any]:
    found: dict[str, Any] = {}
    roles: dict[tuple[int, int], tuple[str, str]] = {}

    def direction(start: int, end: int) -> str:
        roles[(start, end)] = _role_of(text, start, end)
        return roles[(start, end)][1]

    for mention in find_dates(text, today, direction):
        role = roles.get((mention.start, mention.end), ("dates", "past"))[0]
        value = mention.value or mention.text
        if role == "dates" or role in found:
            found.setdefault("dates", []).append(value)
        else:
            found[role] = value
    # A date said without a cue in a message about a denial is the denial's.
    if "notice_date" not in found and "dates" in found and DENIAL_WORDS.search(text):
        found["notice_date"] = found["dates"].pop(0)
    if "notice_date" in found and DENIAL_WORDS.search(text):
        found["denial_date"] = found.pop("notice_date")
    if not found.get("dates"):
        found.pop("dates", None)
    waiting = _WAITING.search(text)
    if waiting:
        found["waiting_days"] = duration_days(waiting.group("count"), waiting.group("unit"))
    return found


def plan_through(text: str, plan_type: str | None) -> str | None:
    """Whose plan it is ("my wife's job" -> spouse), in the words of `FACT_KEYS["plan_through"]`."""
    if re.search(r"(?i)\b(husband|wife|spouse|partner)'?s? (job|work|employer|company|plan|insurance)|through "
                 r"(his|her) (job|work|employer)", text):
        return "spouse"
    if re.search(r"(?i)\b(mom|dad|mother|father|parent)s?'?s? (plan|insurance|job|work|employer)", text):
        return "parent"
    if re.search(r"(?i)\b(old|former|previous) (job|employer|company)|cobra\b", text):
        return "former_employer"
    return "own_job" if plan_type == "employer" else None


def _plan(text: str) -> dict[str, Any]:
    plan_type = next((name for name, pattern in PLAN_TYPES if pattern.search(text)), None)
    detail = next((name for name, pattern in PLAN_DETAILS if pattern.search(text)), None)
    if detail in ("medicare_advantage", "original_medicare", "part_d"):
        plan_type = "medicare"
    if detail == "self_funded":
        plan_type = plan_type or "employer"
    insurer = next((name for name, pattern in INSURER_PATTERNS if pattern.search(text)), None)
    return {"plan_through": plan_through(text, plan_type), "plan_type": plan_type, "plan_detail": detail,
            "insurer": insurer}


def _state(text: str) -> str | None:
    """The state named; after a move, the one moved to."""
    moving = MOVED_TO_STATE.search(text)
    if moving:
        return STATES[moving.group(2).lower()]
    match = STATE_NAME.search(text)
    if match:
        return STATES[match.group(1).lower()]
    code = STATE_CODE.search(text)
    return code.group(1) if code else None


def _event(text: str) -> str | None:
    return next((name for name, pattern in _EVENTS if pattern.search(text)), None)


def _numbers(text: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    size = re.search(r"(?i)\b(\d{1,6}) (employees|workers|people|staff)\b", text)
    if size:
        found["employer_size"] = int(size.group(1))
    age = re.search(r"(?i)\b(?:i am|i'm|im|he is|she is|he's|she's|age|aged|at age|at) (\d{1,3})\b(?! (?:weeks|"
                    r"months|days|percent|%|dollars|employees|visits|minutes|miles))|\b(\d{1,3})[ -]years?[ -]old\b",
                    text)
    if age:
        found["age"] = int(age.group(1) or age.group(2))
    turning = re.search(r"(?i)\bturn(?:ing|s)? (\d{2})\b", text)
    if turning:
        found["age"] = int(turning.group(1))
    return found


def extract_facts(text: str, today: date | None = None) -> dict[str, Any]:
    """The facts stated in `text` (only the keys it states)."""
    today = today or date.today()
    facts: dict[str, Any] = {**_plan(text), "state": _state(text), "event": _event(text)}
    # Of several drugs, the brand the question is about ("try metformin before Jardiance"): the first brand named.
    drugs = [m.group(1) for m in DRUG_PATTERN.finditer(text)]
    drug = next((d for d in drugs if display_drug(d) != display_drug(d).lower()), drugs[0] if drugs else None)
    service = SERVICE_PATTERN.search(text)
    facts["drug"] = display_drug(drug) if drug else None
    facts["service"] = display_service(service.group(0)) if service else None
    facts.update(_dates(text, today))
    facts.update(_amounts(text))
    facts.update(_numbers(text))
    if re.search(r"(?i)\b(can'?t wait|cannot wait|urgent\w*|expedit\w*|as soon as possible|life[- ]threatening|"
                 r"serious(ly)? harm|getting worse|emergency)\b", text):
        facts["urgent"] = True
    return {key: value for key, value in facts.items() if value not in (None, "", [])}


_DATE_KEYS = {"denial_date": "past", "notice_date": "past", "event_date": "nearest", "coverage_end_date": "nearest",
              "due_date": "future", "appeal_date": "past", "request_date": "past", "appeal_deadline": "future"}
_PLAN_WORDS = {"employer": "employer", "job": "employer", "work": "employer", "group": "employer",
               "marketplace": "marketplace", "aca": "marketplace", "exchange": "marketplace",
               "individual": "marketplace",
               "medicare": "medicare", "medicaid": "medicaid", "chip": "chip", "tricare": "tricare", "va": "va",
               "uninsured": "uninsured", "none": "uninsured"}


def normalise_facts(raw: dict[str, Any], today: date, intent: str | None = None) -> dict[str, Any]:
    """Facts as any model gave them, made uniform: dates resolved to ISO, plan type and state as codes.

    A notice's date in a question about a denial is the denial's date.
    """
    facts = {key: value for key, value in raw.items() if value not in (None, "", [])}
    for key, direction in _DATE_KEYS.items():
        value = facts.get(key)
        if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value):
            found = find_dates(value, today, lambda start, end, way=direction: way)
            if found and found[0].value:
                facts[key] = found[0].value
    plan = facts.get("plan_type")
    if isinstance(plan, str):
        lowered = plan.lower()
        facts["plan_type"] = next((code for word, code in _PLAN_WORDS.items() if word in lowered), lowered)
    state = facts.get("state")
    if isinstance(state, str) and len(state) > 2:
        facts["state"] = STATES.get(state.lower(), state)
    if intent == "claim_denial_appeal" and "notice_date" in facts and "denial_date" not in facts:
        facts["denial_date"] = facts.pop("notice_date")
    return facts
