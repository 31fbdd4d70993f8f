"""Crisis detection by meaning: which signals in a message count, and what kind of crisis they make.

The rules run for every model provider and decide alone offline. A signal
(`agents.crisis_signals`) counts unless the words around it say otherwise:

- negation: "I'm not suicidal", "no chest pain" (a pattern that carries its
  own negation, "I don't want to live", is not cancelled by it);
- figures of speech: "the bill is killing me", "I killed it at work",
  "bleeding us dry" are removed before anything is looked for;
- topics, not events: "is suicide prevention counseling covered?",
  "stroke rehab", "Narcan";
- the past and the already-handled: "had chest pain last month and the ER
  billed me" (medical signs), "my ex used to hit me years ago" (acts);
- hypotheticals about coverage: "does insurance cover the ambulance if
  someone stops breathing?".

A weak sign (an arm that is numb, "I can't go on") needs a second sign of the
same kind or a word of suddenness or the present. When in doubt the rules
lean towards urgent: a safety reply to a calm question costs a moment, a
missed crisis can cost a life.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.crisis_signals import (
    ABOUT,
    CATEGORY,
    COVERAGE_WORDS,
    DISTANT_PAST,
    FIGURES_OF_SPEECH,
    HYPOTHETICAL,
    KINDS,
    MEDICAL_KINDS,
    NOT_ACUTE,
    PREGNANCY_CONTEXT,
    RESOLVED,
    SIGNALS,
    STILL_HAPPENING,
    TOPICS,
    URGENT_NOW,
    Signal,
)


@dataclass(frozen=True)
class RiskFinding:
    """An urgent situation: `category` is what `risk_detections` stores; `kinds` choose the reply."""

    category: str  # medical_emergency | self_harm | danger
    severity: str  # urgent
    kind: str = ""  # the first of `kinds`
    kinds: tuple[str, ...] = field(default_factory=tuple)
    source: str = "rules"  # rules | model

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(CATEGORY[kind] for kind in self.kinds)) or (self.category,)


_CONTRACTIONS = [
    (r"\b(can'?t|cannot|can not)\b", "can not"), (r"\bwon'?t\b", "will not"), (r"\bshan'?t\b", "shall not"),
    (r"\b(ai)n'?t\b", "is not"), (r"\b(do|does|did|is|are|was|were|has|have|had|could|would|should|must|need)n'?t\b",
                                  r"\1 not"),
    (r"\bi'?m\b", "i am"), (r"\bi'?ve\b", "i have"), (r"\bi'?ll\b", "i will"), (r"\bi'd\b", "i would"),
    (r"\b(he|she|it|there|that|what|who)'s\b", r"\1 is"), (r"\b(you|we|they)'re\b", r"\1 are"),
    (r"\b(he|she|they|we|you)'d\b", r"\1 would"), (r"\b(he|she|they|we|you)'ll\b", r"\1 will"),
    (r"\b(you|we|they)'ve\b", r"\1 have"),
    (r"\bim\b", "i am"), (r"\bive\b", "i have"), (r"\bdont\b", "do not"), (r"\bdoesnt\b", "does not"),
    (r"\bdidnt\b", "did not"), (r"\bisnt\b", "is not"), (r"\bwasnt\b", "was not"), (r"\bhasnt\b", "has not"),
    (r"\bhavent\b", "have not"), (r"\bwont\b", "will not"), (r"\bcouldnt\b", "could not"),
    (r"\bwouldnt\b", "would not"), (r"\bshes\b", "she is"), (r"\bhes\b", "he is"), (r"\btheres\b", "there is"),
]
_MISSPELLINGS = [
    (r"\b(breathin|brething|breathng)\b", "breathing"), (r"\b(can not|could not|trouble) breath\b", r"\1 breathe"),
    (r"\b(unconcious|unconsious|unconscience|unconsciuos)\b", "unconscious"),
    (r"\b(suicde|suiside|sucide|suicid)\b", "suicide"), (r"\bsuicidle\b", "suicidal"),
    (r"\bpils\b", "pills"), (r"\bbleding\b", "bleeding"), (r"\bpreg(nent|ant|o)\b", "pregnant"),
    (r"\bod'?d\b|\bod'?ed\b", "overdosed"), (r"\bover dose\b", "overdose"), (r"\bself[- ]?harm", "self-harm"),
    (r"\bmy self\b", "myself"), (r"\bchoaking\b", "choking"), (r"\bsiezure\b", "seizure"),
]
# Compiled once, in order: contractions, then misspellings, then runs of spaces (every message passes here).
_REWRITES = [(re.compile(pattern), repl) for pattern, repl in [*_CONTRACTIONS, *_MISSPELLINGS, (r"[ \t]+", " ")]]
_CLAUSE_BREAK = re.compile(r"[,;:]| but | though | however | although ")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
# Cancels the sign that follows within a few words; "can not stop"/"not sure" are not denials.
_NEGATION = re.compile(r"\b(not|never|without|denies|no)\b(?! (stop|help|sure|longer|one|point|reason|use|"
                       r"matter|idea|way))")
_CESSATION = re.compile(r"\b(stopped|quit|gave up|give up)\b")
_NEGATION_WINDOW_WORDS = 4


def normalise(text: str) -> str:
    """Lower case, straight quotes, contractions expanded, common misspellings fixed, spaces collapsed."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    for pattern, repl in _REWRITES:
        text = pattern.sub(repl, text)
    return text.strip()


def _without(patterns: tuple[re.Pattern[str], ...], text: str) -> str:
    for pattern in patterns:
        text = pattern.sub(" _ ", text)
    return text


def _negated(clause_before: str, signal: Signal) -> bool:
    if signal.negation_inside:
        return False
    words = _CLAUSE_BREAK.split(clause_before)[-1].split()[-_NEGATION_WINDOW_WORDS:]
    if _NEGATION.search(" ".join(words)):
        return True
    # "I stopped cutting myself" is a habit left behind, not a plan.
    return signal.kind == "self_harm" and bool(_CESSATION.search(" ".join(words[-2:])))


def _told_as_past(sentence: str, signal: Signal, resolved: bool) -> bool:
    """Far in the past, or (for bodily emergencies and attempts) already in the hands of care or billing."""
    if STILL_HAPPENING.search(sentence):
        return False
    if DISTANT_PAST.search(sentence) or (signal.kind in MEDICAL_KINDS and NOT_ACUTE.search(sentence)):
        return True
    # Thoughts of suicide and violence at home are not made safe by a bill being mentioned.
    return resolved and (signal.kind in MEDICAL_KINDS or signal.act)


def _about_coverage(sentence: str, start: int, signal: Signal) -> bool:
    """'Does insurance cover the ambulance if someone stops breathing?', 'an ER visit for chest pain':
    a question about coverage that names a condition, not one happening."""
    if signal.kind not in MEDICAL_KINDS or not COVERAGE_WORDS.search(sentence):
        return False
    before = sentence[:start]
    return bool(HYPOTHETICAL.search(before) or ABOUT.search(before))


def _signals_in(sentence: str, resolved: bool) -> list[Signal]:
    found = []
    for signal in SIGNALS:
        for match in signal.pattern.finditer(sentence):
            if signal.requires is not None and not signal.requires.search(sentence):
                break
            if _negated(sentence[:match.start()], signal) or _about_coverage(sentence, match.start(), signal) \
                    or _told_as_past(sentence, signal, resolved):
                continue
            found.append(signal)
            break
    return found


def urgent_kinds(text: str) -> list[str]:
    """The kinds of crisis in the text, most immediately dangerous first; empty when there is none."""
    norm = normalise(text)
    resolved = bool(RESOLVED.search(norm))
    by_kind: dict[str, list[Signal]] = {}
    for sentence in _SENTENCE.split(norm):
        for signal in _signals_in(_without(FIGURES_OF_SPEECH + TOPICS, sentence), resolved):
            by_kind.setdefault(signal.kind, []).append(signal)
    pregnant = bool(PREGNANCY_CONTEXT.search(norm))
    now = bool(URGENT_NOW.search(norm))
    urgent = set()
    for kind, signals in by_kind.items():
        if kind == "pregnancy" and not pregnant:
            continue
        # A weak sign needs a second one of its kind, or a word that says it is happening now or came suddenly.
        if kind == "pregnancy" or any(not s.weak for s in signals) or len(signals) >= 2 or now:
            urgent.add(kind)
    if pregnant and urgent & {"bleeding", "medical", "pregnancy"}:
        urgent = (urgent - {"bleeding", "medical"}) | {"pregnancy"}
    return [kind for kind in KINDS if kind in urgent]


def detect_risk(text: str) -> RiskFinding | None:
    """An urgent situation in the person's words, or None."""
    kinds = urgent_kinds(text)
    if not kinds:
        return None
    return RiskFinding(CATEGORY[kinds[0]], "urgent", kinds[0], tuple(kinds))


# Calm questions that touch a crisis topic get one line pointing to help. The suicide line stays even
# when the event is past (the risk does not pass with it); the others only for what may be happening now.
_TOPIC_LINES = (
    (re.compile(r"\b(suicid\w*|self-harm|988|crisis line|kill (myself|themselves)|want to die)\b"), True,
     "If you or someone you care about is thinking about suicide or self-harm, call or text 988 "
     "(Suicide & Crisis Lifeline), any time."),
    (re.compile(r"\b(domestic (violence|abuse)|abus(e|ive) (partner|husband|wife|relationship)|(hits|hit|beats) me)\b"),
     True, "If you are not safe at home, call 911 in an emergency; the National Domestic Violence Hotline is "
           "1-800-799-7233 (text START to 88788)."),
    (re.compile(r"\b(overdos\w*|poison(ed|ing)|narcan|naloxone)\b"), False,
     "For a possible poisoning or overdose happening now, call 911 or Poison Help at 1-800-222-1222."),
    (re.compile(r"\b(chest pain|not breathing|stops breathing|stopped breathing|(signs|symptoms) of (a )?"
                r"(stroke|heart attack)|thought (i|he|she) was having)\b"), False,
     "If this is happening now, call 911: emergency care needs no prior authorization."),
)
_TOPIC_SIGNAL = Signal("topic", re.compile("^$"))


def topic_line(text: str) -> str | None:
    """One line pointing to help, for a calm question that speaks of a crisis topic; None otherwise.

    Not for figures of speech ("the bill is killing me") nor for a denial ("I don't have chest pain")."""
    norm = _without(FIGURES_OF_SPEECH, normalise(text))
    past = bool(DISTANT_PAST.search(norm) or RESOLVED.search(norm))
    for pattern, even_if_past, line in _TOPIC_LINES:
        match = pattern.search(norm)
        if match and not _negated(norm[:match.start()], _TOPIC_SIGNAL) and (even_if_past or not past):
            return line
    return None
