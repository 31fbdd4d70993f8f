"""Evaluate the answers on the labelled questions: intent, facts stated, facts forbidden, crises caught.

    python scripts/dev/eval_answers.py                 # offline model; also an OpenAI-compatible one when set
    python scripts/dev/eval_answers.py --misses        # and list what the development part got wrong
    python scripts/dev/eval_answers.py --json          # the figures as JSON

The questions (scripts/dev/eval_questions/*.jsonl) are written from real
situations: the kinds people post on patient forums and ask state insurance
helplines. One JSON object per line:

    id, split      "dev" (the rules were written from these) or "held_out" (never used to write them)
    turns          the messages of one conversation; a turn after a question from the graph answers it
    intent         the expected intent of the last turn (null for a crisis)
    crisis         null, or the kind of crisis (overdose, heart_attack, stroke, not_breathing, bleeding,
                   pregnancy, suicidal, self_harm, violence): the answer must be the urgent safety reply
    must           regular expressions the final answer must match (facts it must state)
    must_not       regular expressions it must not match (wrong rules, re-asked facts, a rule repeated)
    today          optional: the day the conversation happens (default 2026-06-15)
    written        held-out only: "before_rules" (written before any rule change) or "after_rules"
                   (added when the development part outgrew four fifths, never used to tune)
    tags, from     free labels ("crisis_words": a calm question that uses crisis words)

Figures, for each part: intent accuracy (non-crisis questions), fact recall (share of `must`
matched), forbidden-fact rate (share of `must_not` matched), crisis recall (crises answered as
urgent, and by kind), false-alarm rate (calm questions answered as urgent). Misses of the held-out
part are printed only with --show-held-out: look at them only to report, never to write rules.

With LLM_PROVIDER=openai and OPENAI_BASE_URL set (OPENAI_API_KEY, LLM_MODEL as for the service),
the same questions also run against that model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from langchain_core.language_models import BaseChatModel  # noqa: E402
from langgraph.checkpoint.memory import InMemorySaver  # noqa: E402

from agents.graph import build_graph, resume_input, user_input  # noqa: E402
from agents.models import build_model  # noqa: E402
from agents.outcome import RunOutcome, read_outcome  # noqa: E402

QUESTIONS_DIR = Path(__file__).resolve().parent / "eval_questions"
DEFAULT_TODAY = "2026-06-15"
SPLITS = ("held_out", "dev")


def load_questions(directory: Path = QUESTIONS_DIR) -> list[dict[str, Any]]:
    """Every labelled question, held-out part first."""
    items = []
    for split in SPLITS:
        path = directory / f"{split}.jsonl"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                item = json.loads(line)
                if item.get("split") != split:
                    raise ValueError(f"{path.name}:{number}: split is {item.get('split')!r}, not {split!r}")
                items.append(item)
    return items


@dataclass
class Result:
    item: dict[str, Any]
    status: str
    intent: str | None
    answer: str
    matched: list[bool] = field(default_factory=list)
    forbidden: list[bool] = field(default_factory=list)

    @property
    def urgent(self) -> bool:
        return self.status == "urgent"


async def ask(graph: Any, item: dict[str, Any]) -> Result:
    """Run one conversation; a turn that follows a question from the graph answers it."""
    config: Any = {"configurable": {"thread_id": str(uuid.uuid4()), "today": item.get("today", DEFAULT_TODAY)}}
    outcome: RunOutcome | None = None
    for turn in item["turns"]:
        waiting = outcome is not None and outcome.status == "needs_input"
        await graph.ainvoke(resume_input(turn) if waiting else user_input(turn), config, durability="sync")
        outcome = await read_outcome(graph, config)
    assert outcome is not None, item["id"]
    answer = outcome.reply or outcome.question or ""
    return Result(item, outcome.status, outcome.intent, answer,
                  [bool(re.search(p, answer, re.IGNORECASE)) for p in item.get("must", [])],
                  [bool(re.search(p, answer, re.IGNORECASE)) for p in item.get("must_not", [])])


async def evaluate(model: BaseChatModel | None, items: list[dict[str, Any]], concurrency: int = 1) -> list[Result]:
    graph = build_graph(checkpointer=InMemorySaver(), model=model)
    gate = asyncio.Semaphore(concurrency)

    async def one(item: dict[str, Any]) -> Result:
        async with gate:
            return await ask(graph, item)

    return list(await asyncio.gather(*(one(item) for item in items)))


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def figures(results: list[Result]) -> dict[str, Any]:
    """The evaluation's figures for a set of results."""
    calm = [r for r in results if not r.item.get("crisis")]
    crises = [r for r in results if r.item.get("crisis")]
    labelled = [r for r in calm if r.item.get("intent")]
    musts = [hit for r in results for hit in r.matched]
    forbidden = [hit for r in results for hit in r.forbidden]
    by_kind: dict[str, list[int]] = {}
    for r in crises:
        caught = by_kind.setdefault(r.item["crisis"], [0, 0])
        caught[0] += r.urgent
        caught[1] += 1
    return {
        "questions": len(results),
        "intent_accuracy": _share(sum(r.intent == r.item["intent"] for r in labelled), len(labelled)),
        "fact_recall": _share(sum(musts), len(musts)),
        "forbidden_rate": _share(sum(forbidden), len(forbidden)),
        "crisis_recall": _share(sum(r.urgent for r in crises), len(crises)),
        "false_alarm_rate": _share(sum(r.urgent for r in calm), len(calm)),
        "crisis_by_kind": {kind: {"caught": hit, "of": total} for kind, (hit, total) in sorted(by_kind.items())},
        "counts": {"intent": len(labelled), "must": len(musts), "must_not": len(forbidden), "crises": len(crises),
                   "calm": len(calm)},
    }


def misses(results: list[Result]) -> list[str]:
    lines = []
    for r in results:
        item = r.item
        problems = []
        if item.get("crisis") and not r.urgent:
            problems.append(f"crisis {item['crisis']} not urgent")
        if not item.get("crisis") and r.urgent:
            problems.append("false alarm")
        if item.get("intent") and not item.get("crisis") and r.intent != item["intent"]:
            problems.append(f"intent {r.intent} (expected {item['intent']})")
        problems += [f"missing /{p}/" for p, hit in zip(item.get("must", []), r.matched, strict=True) if not hit]
        problems += [f"forbidden /{p}/" for p, hit in zip(item.get("must_not", []), r.forbidden, strict=True) if hit]
        if problems:
            lines.append(f"{item['id']} {' | '.join(item['turns'])[:110]!r}: {'; '.join(problems)}")
    return lines


def _pct(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:6.1%}"


def parts(results: list[Result]) -> dict[str, dict[str, Any]]:
    """Figures of each part, and of the held-out part's two batches."""
    found = {split: figures([r for r in results if r.item["split"] == split]) for split in SPLITS}
    for written in ("before_rules", "after_rules"):
        batch = [r for r in results if r.item["split"] == "held_out" and r.item.get("written") == written]
        if batch:
            found[f"  {written}"] = figures(batch)
    return found


def report(name: str, by_split: dict[str, dict[str, Any]]) -> str:
    rows = [f"{name}", f"{'':16} {'questions':>9} {'intent':>7} {'facts':>7} {'forbid':>7} {'crisis':>7} "
                       f"{'alarms':>7}"]
    for split, f in by_split.items():
        rows.append(f"{split:16} {f['questions']:>9} {_pct(f['intent_accuracy']):>7} {_pct(f['fact_recall']):>7} "
                    f"{_pct(f['forbidden_rate']):>7} {_pct(f['crisis_recall']):>7} {_pct(f['false_alarm_rate']):>7}")
    for split in SPLITS:
        kinds = ", ".join(f"{k} {v['caught']}/{v['of']}" for k, v in by_split[split]["crisis_by_kind"].items())
        rows.append(f"crises by kind ({split}): {kinds}")
    return "\n".join(rows)


def openai_model() -> BaseChatModel | None:
    """The configured OpenAI-compatible model, or None when the environment does not name one."""
    if os.environ.get("LLM_PROVIDER") != "openai" or not os.environ.get("OPENAI_BASE_URL"):
        return None
    return build_model("openai", base_url=os.environ["OPENAI_BASE_URL"], api_key=os.environ.get("OPENAI_API_KEY"),
                       model_name=os.environ.get("LLM_MODEL"),
                       timeout=float(os.environ.get("LLM_TIMEOUT_SECONDS", "60")))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    items = load_questions(Path(args.questions))
    models: list[tuple[str, BaseChatModel | None, int]] = [("offline", None, 1)]
    remote = openai_model()
    if remote is not None:
        models.append((f"openai ({os.environ.get('LLM_MODEL', 'default model')})", remote, args.concurrency))
    output: dict[str, Any] = {}
    for name, model, concurrency in models:
        results = await evaluate(model, items, concurrency)
        by_split = parts(results)
        output[name] = by_split
        if not args.json:
            print(report(name, by_split))
            shown = [s for s in SPLITS if (s == "dev" and args.misses) or (s == "held_out" and args.show_held_out)]
            for split in shown:
                for line in misses([r for r in results if r.item["split"] == split]):
                    print(f"  {split} miss: {line}")
    if remote is None and not args.json:
        print("(no OpenAI-compatible model configured: set LLM_PROVIDER=openai and OPENAI_BASE_URL to evaluate one)")
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", default=str(QUESTIONS_DIR), help="folder with dev.jsonl and held_out.jsonl")
    parser.add_argument("--misses", action="store_true", help="list the development part's misses")
    parser.add_argument("--show-held-out", action="store_true",
                        help="list the held-out part's misses too (to report them, never to tune rules)")
    parser.add_argument("--concurrency", type=int, default=4, help="conversations in flight for a remote model")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    output = asyncio.run(run(args))
    if args.json:
        print(json.dumps(output, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
