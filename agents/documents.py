"""Facts from the person's documents: denial letters, summaries of benefits, explanations of benefits.

Offline by rules (labelled lines and phrases insurers use); with an OpenAI-compatible model,
by structured output (`DocumentFacts`), the rules filling whatever the model left out. Dates
come out as ISO dates; the appeal deadline is computed from the letter's date and the period
it states (or a date it names). Every string is masked (SSNs, card numbers). `pages` maps a
fact to the page it was read on, so answers can cite "Your denial letter (page 1)".
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date, timedelta
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field

from agents.dates import MONTHS
from agents.extract import extract_facts
from agents.guard import mask_sensitive
from agents.models import ModelUnavailable, invoke_structured
from agents.offline import OfflineChatModel
from agents.prompts import TASK_PREFIX
from agents.vocabulary import PLAN_TYPES

log = logging.getLogger(__name__)

KINDS = ("summary_of_benefits", "denial_letter", "explanation_of_benefits", "decision_letter", "policy", "bill",
         "other")
MAX_MODEL_CHARS = 12_000
MAX_FACT_CHARS = 300

DOCUMENT_FACTS_PROMPT = TASK_PREFIX + """document_facts
Read the health-insurance document (JSON field "text"; pages are separated by form feeds) of the given kind
and return only the facts it states: for a denial letter the date of the letter or decision, the service or
drug denied, the reason, the claim number, the address appeals go to and any appeal deadline it states; for a
summary of benefits the plan type, deductible, out-of-pocket maximum, copays and coinsurance; for an
explanation of benefits the amounts billed, allowed, paid by the plan and owed by the patient. Dates as
YYYY-MM-DD, amounts as written (e.g. $1,250.00). Leave anything not stated null. Never invent a fact."""


class DocumentFacts(BaseModel):
    """Facts stated in one document; anything it does not state stays null."""

    kind: str | None = Field(default=None, description="one of " + ", ".join(KINDS))
    denial_date: str | None = Field(default=None, description="date of the denial letter or decision, YYYY-MM-DD")
    service: str | None = Field(default=None, description="the medical service denied or billed")
    drug: str | None = Field(default=None, description="the drug denied, if it is a drug")
    reason: str | None = Field(default=None, description="the reason given for the denial, in one sentence")
    claim_number: str | None = Field(default=None, description="claim or reference number")
    appeal_address: str | None = Field(default=None, description="where to send the appeal (mail address or fax)")
    deadline_days: int | None = Field(default=None, description="days the letter gives to appeal, e.g. 180")
    deadline_date: str | None = Field(default=None, description="a date the appeal must arrive by, YYYY-MM-DD")
    insurer: str | None = Field(default=None, description="the insurance company or plan that wrote it")
    plan_type: str | None = Field(default=None, description="employer, marketplace, medicare, medicaid, chip, "
                                                            "tricare or va, when the document says so")
    network_type: str | None = Field(default=None, description="HMO, PPO, EPO, POS or HDHP")
    deductible: str | None = Field(default=None, description="individual deductible, e.g. $1,500")
    deductible_family: str | None = None
    out_of_pocket_max: str | None = Field(default=None, description="individual out-of-pocket maximum")
    out_of_pocket_max_family: str | None = None
    copays: dict[str, str] = Field(default_factory=dict,
                                   description="copay or coinsurance per service: primary_care, specialist, "
                                               "urgent_care, emergency_room, generic_drugs")
    coinsurance: str | None = Field(default=None, description="the plan's coinsurance after the deductible, e.g. 20%")
    service_date: str | None = Field(default=None, description="date of service, YYYY-MM-DD")
    provider: str | None = None
    billed: str | None = None
    allowed: str | None = None
    paid: str | None = None
    owed: str | None = None


# ---------------------------------------------------------------- dates and amounts

_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_FULL_DATE = re.compile(
    r"(?i)\b(?:" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})"
    r"|(\d{1,2})\s+" + _MONTH + r",?\s+(\d{4})"
    r"|(\d{1,2})/(\d{1,2})/(\d{4})"
    r"|(\d{4})-(\d{2})-(\d{2}))\b")
_AMOUNT = r"\$\s?\d[\d,]*(?:\.\d{2})?"


def parse_date(text: str) -> date | None:
    """The first full date in the text (Month D, YYYY; D Month YYYY; MM/DD/YYYY; YYYY-MM-DD).

    Not `agents.dates.find_dates`: a document's date is printed with its year (a date without one is
    not the letter's), and PDF text breaks lines and spaces inside dates, which this allows."""
    match = _FULL_DATE.search(text)
    return _to_date(match) if match else None


def _to_date(match: re.Match[str]) -> date | None:
    g = match.groups()
    try:
        if g[0]:
            return date(int(g[2]), _month(g[0]), int(g[1]))
        if g[3]:
            return date(int(g[5]), _month(g[4]), int(g[3]))
        if g[6]:
            return date(int(g[8]), int(g[6]), int(g[7]))
        return date(int(g[9]), int(g[10]), int(g[11]))
    except ValueError:  # February 30 and friends
        return None


def _month(name: str) -> int:
    return MONTHS[name.lower()[:3]]


def _iso(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10]).isoformat()
    except ValueError:
        found = parse_date(value)
        return found.isoformat() if found else None


def _amount(text: str) -> str:
    return re.sub(r"\s", "", text)


# ---------------------------------------------------------------- kind

_KIND_HINTS: list[tuple[str, re.Pattern[str]]] = [
    ("summary_of_benefits", re.compile(r"(?i)summary of benefits( and coverage)?|what is the overall deductible")),
    ("explanation_of_benefits", re.compile(r"(?i)explanation of benefits|this is not a bill")),
    ("decision_letter", re.compile(r"(?i)appeal decision|(we have|has been) (overturned|upheld)|final internal "
                                   r"adverse benefit determination|external review decision")),
    ("denial_letter", re.compile(r"(?i)adverse benefit determination|(has been|was|we have|we) (denied|declined)|"
                                 r"notice of denial|denial of (coverage|your claim|benefits)|not medically necessary")),
    ("bill", re.compile(r"(?i)amount due|balance due|please pay|statement date|pay this amount")),
    ("policy", re.compile(r"(?i)certificate of coverage|evidence of coverage|policy (document|number)|"
                          r"schedule of benefits")),
]


def classify_document(text: str) -> str:
    """The document's kind from its words; `other` when nothing fits."""
    head = text[:20_000]
    return next((kind for kind, pattern in _KIND_HINTS if pattern.search(head)), "other")


# ---------------------------------------------------------------- finders


class _Finder:
    """Searches the whole text (pages joined by form feeds) and remembers the page of each fact."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pages: dict[str, int] = {}

    def page_of(self, offset: int) -> int:
        return self.text.count("\f", 0, offset) + 1

    def first(self, name: str, pattern: re.Pattern[str], group: int = 1) -> str | None:
        match = pattern.search(self.text)
        if match is None or match.group(group) is None:
            return None
        self.pages.setdefault(name, self.page_of(match.start(group)))
        return match.group(group)


def _clean(value: str | None, limit: int = MAX_FACT_CHARS) -> str | None:
    if value is None:
        return None
    value = " ".join(value.replace("\f", " ").split()).strip(" .;:,-")
    if not value:
        return None
    if len(value) > limit:
        value = value[:limit].rsplit(" ", 1)[0] + "..."
    return mask_sensitive(value)


_CLAIM = re.compile(r"(?i)\b(?:claim|reference|case)\s*(?:number|no\.?|#|id)\s*[:#]?\s*([A-Z0-9][A-Z0-9-]{3,30})\b")
_LETTER_DATE = re.compile(r"(?i)\b(?:date of (?:this )?(?:notice|letter|decision|determination)|notice date|"
                          r"decision date|letter date|date)\s*:\s*([^\n]{6,30})")
_NOT_LETTER_DATE = re.compile(r"(?i)(service|birth|dob|visit|admi(t|ssion)|received|submitted|effective|"
                              r"period|from|through|to)\W*$")
_SERVICE_LABEL = re.compile(r"(?im)^\s*(?:service|services|procedure|treatment|item|service requested|"
                            r"description of service)\s*(?:\(s\))?\s*:\s*([^\n]{3,150})")
_DRUG_LABEL = re.compile(r"(?im)^\s*(?:drug|medication|prescription)\s*(?:name|requested)?\s*:\s*([^\n]{2,100})")
_SERVICE_PHRASE = re.compile(r"(?i)\b(?:claim|request|coverage|authorization|payment)\s+for\s+(?:an?\s+|the\s+)?"
                             r"([^\n.;]{3,120}?)(?=\s+(?:on|from|at|dated|received|provided|by|performed|because|"
                             r"was|is|has)\b|[.;(\n])")
_REASON_LABEL = re.compile(r"(?i)\b(?:reason for (?:the |this |our )?(?:denial|decision|determination)|"
                           r"denial reason|reason)\s*:\s*([^\n]+(?:\n[^\n]+){0,3})")
_REASON_BECAUSE = re.compile(r"(?i)\b(?:denied|declined|not (?:approved|covered))\b[^.\n]{0,80}?\bbecause\s+"
                             r"([^.\n]{5,250})")
_REASON_PHRASES: list[tuple[str, re.Pattern[str]]] = [
    ("medical_necessity", re.compile(r"(?i)not medically necessary|medical necessity")),
    ("experimental", re.compile(r"(?i)experimental|investigational")),
    ("no_prior_authorization", re.compile(r"(?i)prior authori[sz]ation (was|had) not|without (a )?prior "
                                          r"authori[sz]ation|no prior authori[sz]ation")),
    ("out_of_network", re.compile(r"(?i)out[- ]of[- ]network|non[- ]participating")),
    ("not_covered", re.compile(r"(?i)not a covered (benefit|service)|excluded|exclusion|not covered under")),
    ("missing_information", re.compile(r"(?i)(additional|missing|more) information|incomplete")),
    ("step_therapy", re.compile(r"(?i)step therapy|try (and fail|other medications) first")),
]
_APPEAL_ADDRESS = re.compile(
    r"(?is)(?:send|mail|submit|fax|write)\s+(?:your\s+|a\s+|the\s+)?(?:written\s+)?(?:appeal|request for (?:an )?"
    r"appeal|request|letter)(?:\s+and[^:]{0,80})?\s+(?:to|at)\s*:?\s*(.{10,250}?\b[A-Z]{2},?\s+\d{5}(?:-\d{4})?)\b")
_APPEAL_FAX = re.compile(r"(?i)(?:appeals?|appeal requests?)[^\n]{0,40}\bfax(?: number)?\s*:?\s*"
                         r"(\(?\d{3}\)?[ .-]?\d{3}[ .-]?\d{4})")
_DEADLINE_DAYS = re.compile(r"(?i)\b(?:within|you have|no later than|up to)\s+(\d{2,3})\s+(?:calendar\s+)?days\b"
                            r"[^.\n]{0,160}?\bappeal|\bappeal[^.\n]{0,160}?\b(?:within|you have|no later than|up to)"
                            r"\s+(\d{2,3})\s+(?:calendar\s+)?days\b")
_DEADLINE_DATE = re.compile(r"(?i)\b(?:received|filed|submitted|postmarked|appeal)\b[^.\n]{0,40}?\b(?:by|before|no "
                            r"later than|on or before)\s+([A-Za-z]+\.? \d{1,2},? \d{4}|\d{1,2}/\d{1,2}/\d{4}|"
                            r"\d{4}-\d{2}-\d{2})")
_INSURER = re.compile(r"(?im)^\s*([A-Z][A-Za-z&.,' -]{2,80}\b(?:Health|Insurance|Healthcare|Care|Blue|Plan|"
                      r"Assurance|Medical|Mutual|HMO|Life)[A-Za-z&.,' -]{0,40})\s*$")
_NETWORK = re.compile(r"(?i)\b(?:plan type|type of plan)\s*:?\s*(HMO|PPO|EPO|POS|HDHP)\b|\b(HMO|PPO|EPO|POS|HDHP)\b")


def _labelled_amount(finder: _Finder, name: str, label: str, family: bool = False) -> str | None:
    scope = r"[^$\n]{0,60}?" if not family else r"[^\n]{0,80}?"
    pattern = re.compile(r"(?i)\b(?:" + label + r")\b" + scope + r"(" + _AMOUNT + r")" +
                         (r"\s*(?:/|per|for an?|,)?\s*(?:individual|person|member|self)?[^\n$]{0,25}?(" + _AMOUNT
                          + r")\s*(?:/|per|for a|,)?\s*family" if family else ""))
    match = pattern.search(finder.text)
    if match is None:
        return None
    finder.pages.setdefault(name, finder.page_of(match.start(1)))
    return _amount(match.group(2 if family else 1))


_COPAY_LABELS = {
    "primary_care": r"primary care(?: (?:visit|physician|provider|doctor))?",
    "specialist": r"specialist(?: visit)?",
    "urgent_care": r"urgent care",
    "emergency_room": r"emergency room(?: care| services)?|emergency department",
    "generic_drugs": r"generic drugs?|tier 1(?: drugs)?",
}
_COST_SHARE = r"(" + _AMOUNT + r"\s*(?:copay(?:ment)?)?|\d{1,3}\s?%\s*(?:coinsurance)?|no charge)"


def _copays(finder: _Finder) -> dict[str, str]:
    found = {}
    for name, label in _COPAY_LABELS.items():
        match = re.search(r"(?i)\b(?:" + label + r")\b[^\n$%]{0,60}?" + _COST_SHARE, finder.text)
        if match:
            found[name] = " ".join(match.group(1).split())
            finder.pages.setdefault(f"copays.{name}", finder.page_of(match.start(1)))
    return found


# ---------------------------------------------------------------- per kind


def _letter_date(finder: _Finder) -> str | None:
    labelled = finder.first("denial_date", _LETTER_DATE)
    if labelled and parse_date(labelled):
        return parse_date(labelled).isoformat()  # type: ignore[union-attr]
    for match in _FULL_DATE.finditer(finder.text):
        before = finder.text[max(0, match.start() - 40):match.start()].split("\n")[-1]
        if _NOT_LETTER_DATE.search(before):
            continue
        day = _to_date(match)
        if day is not None:
            finder.pages.setdefault("denial_date", finder.page_of(match.start()))
            return day.isoformat()
    return None


def _service_and_drug(finder: _Finder) -> tuple[str | None, str | None]:
    drug = _clean(finder.first("drug", _DRUG_LABEL), 100)
    service = _clean(finder.first("service", _SERVICE_LABEL), 150) or \
        _clean(finder.first("service", _SERVICE_PHRASE), 120)
    if service is None:  # a service or drug the navigator's rules know by name
        service = extract_facts(finder.text[:20_000]).get("service")
    return service, drug


def _paragraph(text: str | None) -> str | None:
    """The lines of a labelled paragraph up to the line that ends a sentence (PDFs break lines mid-sentence)."""
    if text is None:
        return None
    kept: list[str] = []
    for line in text.split("\n"):
        if kept and re.match(r"\s*[A-Z][\w ]{0,40}:", line):  # the next labelled line
            break
        kept.append(line)
        if line.rstrip().endswith((".", "!", "?")):
            break
    return " ".join(kept)


def _reason(finder: _Finder) -> tuple[str | None, str | None]:
    reason = _paragraph(finder.first("reason", _REASON_LABEL)) or finder.first("reason", _REASON_BECAUSE)
    code = next((name for name, pattern in _REASON_PHRASES if pattern.search(reason or finder.text)), None)
    if reason is None and code is not None:
        pattern = dict(_REASON_PHRASES)[code]
        match = pattern.search(finder.text)
        assert match is not None
        start = max(finder.text.rfind(".", 0, match.start()), finder.text.rfind("\n", 0, match.start())) + 1
        end = finder.text.find(".", match.end())
        reason = finder.text[start:end if end != -1 else match.end() + 120]
        finder.pages.setdefault("reason", finder.page_of(match.start()))
    return _clean(reason), code


def _appeal_deadline(facts: dict[str, Any]) -> str | None:
    if facts.get("deadline_date"):
        return str(facts["deadline_date"])
    days, sent = facts.get("deadline_days"), facts.get("denial_date")
    if days and sent:
        try:
            return (date.fromisoformat(sent) + timedelta(days=int(days))).isoformat()
        except ValueError:
            return None
    return None


def _plan_type(text: str) -> str | None:
    return next((name for name, pattern in PLAN_TYPES if pattern.search(text)), None)


def _denial_facts(finder: _Finder) -> dict[str, Any]:
    service, drug = _service_and_drug(finder)
    reason, reason_code = _reason(finder)
    days = finder.first("deadline_days", _DEADLINE_DAYS) or finder.first("deadline_days", _DEADLINE_DAYS, 2)
    deadline_date = finder.first("deadline_date", _DEADLINE_DATE)
    address = _clean(finder.first("appeal_address", _APPEAL_ADDRESS), 250) or \
        _clean(finder.first("appeal_address", _APPEAL_FAX), 40)
    if address is not None and address[:1].isdigit() and "fax" not in address.lower() and len(address) < 20:
        address = f"fax {address}"
    facts: dict[str, Any] = {
        "denial_date": _letter_date(finder),
        "service": service,
        "drug": drug,
        "reason": reason,
        "reason_code": reason_code,
        "claim_number": finder.first("claim_number", _CLAIM),
        "appeal_address": address,
        "deadline_days": int(days) if days else None,
        "deadline_date": _iso(deadline_date),
        "insurer": _clean(finder.first("insurer", _INSURER), 120),
        "plan_type": _plan_type(finder.text),
    }
    facts["appeal_deadline"] = _appeal_deadline(facts)
    if facts["appeal_deadline"]:
        finder.pages.setdefault("appeal_deadline", finder.pages.get("deadline_days") or
                                finder.pages.get("deadline_date") or 1)
    return facts


def _benefit_facts(finder: _Finder) -> dict[str, Any]:
    network = _NETWORK.search(finder.text)
    if network:
        finder.pages.setdefault("network_type", finder.page_of(network.start()))
    coinsurance = re.search(r"(?i)\b(\d{1,3})\s?%\s*coinsurance", finder.text)
    if coinsurance:
        finder.pages.setdefault("coinsurance", finder.page_of(coinsurance.start()))
    return {
        "network_type": (network.group(1) or network.group(2)).upper() if network else None,
        "plan_type": _plan_type(finder.text),
        "insurer": _clean(finder.first("insurer", _INSURER), 120),
        "deductible": _labelled_amount(finder, "deductible", r"overall deductible|deductible"),
        "deductible_family": _labelled_amount(finder, "deductible_family", r"overall deductible|deductible",
                                              family=True),
        "out_of_pocket_max": _labelled_amount(finder, "out_of_pocket_max",
                                              r"out[- ]of[- ]pocket (?:limit|maximum|max)"),
        "out_of_pocket_max_family": _labelled_amount(finder, "out_of_pocket_max_family",
                                                     r"out[- ]of[- ]pocket (?:limit|maximum|max)", family=True),
        "copays": _copays(finder),
        "coinsurance": f"{coinsurance.group(1)}%" if coinsurance else None,
    }


_SERVICE_DATE = re.compile(r"(?i)\b(?:date(?:s)? of service|service date)\s*:?\s*([^\n]{6,30})")
_PROVIDER = re.compile(r"(?i)\b(?:provider|rendering provider|facility)\s*(?:name)?\s*:\s*([^\n]{3,100})")


def _eob_facts(finder: _Finder) -> dict[str, Any]:
    service, _ = _service_and_drug(finder)
    when = finder.first("service_date", _SERVICE_DATE)
    return {
        "claim_number": finder.first("claim_number", _CLAIM),
        "service": service,
        "service_date": _iso(when),
        "provider": _clean(finder.first("provider", _PROVIDER), 100),
        "insurer": _clean(finder.first("insurer", _INSURER), 120),
        "billed": _labelled_amount(finder, "billed", r"amount billed|billed amount|billed|provider charges?|"
                                                     r"total charges?|charged"),
        "allowed": _labelled_amount(finder, "allowed", r"allowed amount|amount allowed|plan allowed|allowed|"
                                                       r"approved amount"),
        "paid": _labelled_amount(finder, "paid", r"plan paid|amount paid by (?:the )?plan|paid by (?:your )?plan|"
                                                 r"insurance paid|plan payment|we paid"),
        "owed": _labelled_amount(finder, "owed", r"you owe|amount you owe|your responsibility|patient "
                                                 r"responsibility|what you owe|your share"),
    }


def extract_document_facts(text: str, kind: str | None = None) -> dict[str, Any]:
    """Facts stated in the document by rules: `{"kind": ..., <facts>, "pages": {fact: page}}`, nulls dropped."""
    kind = kind if kind in KINDS and kind != "other" else classify_document(text)
    finder = _Finder(text)
    if kind in ("denial_letter", "decision_letter"):
        facts = _denial_facts(finder)
    elif kind in ("summary_of_benefits", "policy"):
        facts = _benefit_facts(finder)
    elif kind in ("explanation_of_benefits", "bill"):
        facts = _eob_facts(finder)
    else:
        service, drug = _service_and_drug(finder)
        facts = {"service": service, "drug": drug, "claim_number": finder.first("claim_number", _CLAIM),
                 "insurer": _clean(finder.first("insurer", _INSURER), 120)}
    return _finish(kind, facts, finder.pages)


def _finish(kind: str, facts: dict[str, Any], pages: dict[str, int]) -> dict[str, Any]:
    kept = {k: _mask_value(v) for k, v in facts.items() if v not in (None, "", {}, [])}
    return {"kind": kind, **kept, "pages": {k: v for k, v in pages.items() if k.split(".")[0] in kept}}


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_sensitive(value)
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    return value


async def read_document_facts(model: BaseChatModel | None, text: str, kind: str | None = None) -> dict[str, Any]:
    """Facts by structured output when a remote model is given, completed by the rules; rules alone
    offline or when the model fails (an upload never fails because the model did)."""
    by_rules = extract_document_facts(text, kind)
    if model is None or isinstance(model, OfflineChatModel):
        return by_rules
    payload = json.dumps({"kind": by_rules["kind"], "text": text[:MAX_MODEL_CHARS]})
    try:
        answer = await invoke_structured(model, DocumentFacts, DOCUMENT_FACTS_PROMPT, payload)
    except ModelUnavailable as exc:
        log.warning("document facts by rules only: %s", exc)
        return by_rules
    return merge_model_facts(by_rules, answer)


def merge_model_facts(by_rules: dict[str, Any], answer: DocumentFacts) -> dict[str, Any]:
    """The model's facts where it found one (dates checked), the rules' elsewhere; the deadline recomputed."""
    kind = by_rules["kind"]
    facts = {k: v for k, v in by_rules.items() if k not in ("kind", "pages")}
    for key, value in answer.model_dump(exclude={"kind"}).items():
        if key in ("denial_date", "deadline_date", "service_date"):
            value = _iso(value)
        if isinstance(value, str):
            value = _clean(value)
        if value not in (None, "", {}, []):
            facts[key] = value
    if kind in ("denial_letter", "decision_letter"):
        facts["appeal_deadline"] = _appeal_deadline(facts) or facts.get("appeal_deadline")
    return _finish(kind, facts, dict(by_rules.get("pages") or {}))
