"""The knowledge base shipped with the agents: short Markdown documents with a header.

Each file starts with `---`, `key: value` lines (title, intents, source, url,
optional keywords and deadline), `---`, then the text. Operators add their own
files in the same format (`navigator kb load DIR`). `InMemoryRetriever` ranks
them without a database (unit tests, offline tools); the service searches them
with PostgreSQL full-text search (`db/knowledge.py`).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from agents.state import INTENTS

REQUIRED_KEYS = ("title", "source")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = {"the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "my", "i", "is", "it", "what", "do", "does",
         "how", "can", "me", "was", "be", "with", "that", "this", "you", "your", "are", "if", "at", "by", "from",
         "now", "will", "get", "have", "has", "not", "they", "their", "am", "im", "we", "our"}


class DocumentError(ValueError):
    """A knowledge file is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class KnowledgeDocument:
    slug: str
    title: str
    source: str
    url: str | None
    intents: list[str]
    keywords: str
    deadline: str | None
    body: str
    origin: str = "shipped"
    extra: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_document(text: str, slug: str, origin: str = "shipped") -> KnowledgeDocument:
    """Parse one knowledge file; raises DocumentError naming what is wrong."""
    lines = text.strip().splitlines()
    if not lines or lines[0].strip() != "---" or "---" not in (line.strip() for line in lines[1:]):
        raise DocumentError(f"{slug}: must start with a '---' header block closed by '---'")
    end = [line.strip() for line in lines[1:]].index("---") + 1
    header: dict[str, str] = {}
    for line in lines[1:end]:
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise DocumentError(f"{slug}: header line {line!r} is not 'key: value'")
        header[key.strip().lower()] = value.strip()
    missing = [key for key in REQUIRED_KEYS if not header.get(key)]
    if missing:
        raise DocumentError(f"{slug}: header is missing {', '.join(missing)}")
    intents = [i.strip() for i in header.get("intents", "").split(",") if i.strip()]
    unknown = [i for i in intents if i not in INTENTS]
    if unknown:
        raise DocumentError(f"{slug}: unknown intents {', '.join(unknown)} (known: {', '.join(INTENTS)})")
    body = "\n".join(lines[end + 1:]).strip()
    if not body:
        raise DocumentError(f"{slug}: has no text after the header")
    known = {"title", "source", "url", "intents", "keywords", "deadline", "slug"}
    return KnowledgeDocument(
        slug=header.get("slug", slug), title=header["title"], source=header["source"], url=header.get("url"),
        intents=intents, keywords=header.get("keywords", ""), deadline=header.get("deadline") or None,
        body=body, origin=origin, extra={k: v for k, v in header.items() if k not in known},
    )


def load_directory(directory: Path, origin: str = "operator") -> list[KnowledgeDocument]:
    """Every `*.md` file in a directory (sorted), or one file."""
    paths = [directory] if directory.is_file() else sorted(directory.glob("*.md"))
    if not paths:
        raise DocumentError(f"{directory}: no .md files found")
    return [parse_document(path.read_text(encoding="utf-8"), path.stem, origin) for path in paths]


def shipped_documents() -> list[KnowledgeDocument]:
    """The documents packaged in `agents/knowledge/`."""
    folder = resources.files("agents") / "knowledge"
    docs = [parse_document(entry.read_text(encoding="utf-8"), entry.name.removesuffix(".md"))
            for entry in folder.iterdir() if entry.name.endswith(".md")]
    return sorted(docs, key=lambda doc: doc.slug)


@functools.cache
def shipped_slugs() -> frozenset[str]:
    """Slugs of the shipped documents (anything else was loaded by an operator)."""
    return frozenset(doc.slug for doc in shipped_documents())


def _terms(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1]


def hit(doc: KnowledgeDocument, rank: float) -> dict[str, Any]:
    return {"slug": doc.slug, "title": doc.title, "source": doc.source, "url": doc.url, "body": doc.body,
            "deadline": doc.deadline, "intents": list(doc.intents), "rank": round(rank, 4)}


class InMemoryRetriever:
    """A small TF-IDF ranking with an intent boost; same contract as the database search."""

    def __init__(self, documents: list[KnowledgeDocument] | None = None) -> None:
        self.documents = documents if documents is not None else shipped_documents()
        self._terms = [Counter(_terms(f"{d.title} {d.title} {d.keywords} {d.keywords} {d.body}"))
                       for d in self.documents]
        frequency: Counter[str] = Counter()
        for terms in self._terms:
            frequency.update(set(terms))
        count = max(len(self.documents), 1)
        self._idf = {term: math.log(1 + count / df) for term, df in frequency.items()}

    async def __call__(self, query: str, *, intent: str | None = None, limit: int = 4) -> list[dict[str, Any]]:
        words = set(_terms(query))
        scored = []
        for doc, terms in zip(self.documents, self._terms, strict=True):
            score = sum(self._idf.get(w, 0.0) * math.log(1 + terms[w]) for w in words if w in terms)
            if intent and intent in doc.intents:
                score = score * 1.5 + 1.0
            if score > 0:
                scored.append((score, doc))
        scored.sort(key=lambda pair: (-pair[0], pair[1].slug))
        return [hit(doc, score) for score, doc in scored[:limit]]
