"""Email addresses as accounts see them: one spelling per address, no lookalikes.

An address is normalised (NFKC, which folds fullwidth and compatibility forms
such as "ａｎｎ" to "ann", then lower case) before it is looked up or stored, so
two spellings that render alike are one account. What cannot be folded is
refused: characters that are invisible or change direction (zero-width
spaces, joiners, the right-to-left override...), controls and spaces, and
letters from more than one writing system ("pаypal" with a Cyrillic а), except
the combinations a language writes with (Latin with Han and kana for Japanese,
with Han and Hangul for Korean, with Han and Bopomofo for Chinese), as in the
"highly restrictive" profile of Unicode's UTS #39.

The script of a letter is read from the first word of its Unicode name
("CYRILLIC SMALL LETTER A"): the standard library has no script property, and
for deciding "more than one" that is exact enough.
"""

from __future__ import annotations

import unicodedata

MAX_EMAIL_LENGTH = 320
# Other (control, format: zero-width and bidirectional controls, surrogate, private, unassigned)
# and separators (spaces, line and paragraph separators).
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})
# Names whose first word is not the script's.
SCRIPT_ALIASES = {"CJK": "HAN", "IDEOGRAPHIC": "HAN", "KATAKANA-HIRAGANA": "KATAKANA", "HALFWIDTH": "KATAKANA"}
ALLOWED_SCRIPT_SETS = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
)
INVISIBLE = "must not contain spaces, invisible characters or direction controls"
MIXED = "must not mix letters of different writing systems (such as Latin and Cyrillic)"


def fold_email(value: str) -> str:
    """The one spelling of an address (NFKC, lower case); refuses nothing, for lookups at sign-in."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).lower())


def script_of(char: str) -> str:
    first = unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
    return SCRIPT_ALIASES.get(first, first)


def scripts_in(text: str) -> set[str]:
    return {script_of(char) for char in text if unicodedata.category(char).startswith("L")}


def normalize_email(value: str) -> str:
    """The address an account is registered under; ValueError names what is wrong (never the value)."""
    email = fold_email(value)
    if any(unicodedata.category(char) in REFUSED_CATEGORIES for char in email):
        raise ValueError(INVISIBLE)
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or "@" in local:
        raise ValueError("must be one address: name@domain")
    if len(email) > MAX_EMAIL_LENGTH:
        raise ValueError(f"must be at most {MAX_EMAIL_LENGTH} characters once normalised")
    scripts = scripts_in(email)
    if len(scripts) > 1 and not any(scripts <= allowed for allowed in ALLOWED_SCRIPT_SETS):
        raise ValueError(MIXED)
    return email
