"""`navigator ask` (one question through the graph) and `navigator kb` (knowledge documents).

Works on a fresh data directory: pending migrations and the shipped knowledge
are applied first. When the graph stops to ask the person something, the
question is printed and the exit status is EXIT_QUESTION; `--resume` answers
it. `--continue` finishes a run cut off by a crash from its last completed step.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg

from db.knowledge import count_documents, search_documents, upsert_documents
from db.migrate import migrate_up
from db.pool import connect, create_pool, resolve_dsn
from db.settings import Settings, load_settings
from scripts.cli import CommandError

if TYPE_CHECKING:
    from agents.outcome import RunOutcome

# The agents and the graph (langgraph, langchain-core) are imported by the commands that run them,
# so `navigator --version`, `migrate` or `db status` do not pay a second for them.

EXIT_QUESTION = 3  # the graph asked the person a question; answer with --resume
MAX_THREAD_ID_CHARS = 200


def register(subparsers: argparse._SubParsersAction) -> None:
    ask = subparsers.add_parser("ask", help="ask a health-insurance question (runs the agent graph)")
    ask.add_argument("question", nargs="?", help="the question (omit with --resume or --continue)")
    ask.add_argument("--thread", metavar="ID", help="continue this conversation (default: a new one)")
    mode = ask.add_mutually_exclusive_group()
    mode.add_argument("--resume", metavar="ANSWER", help="answer the question the graph asked on --thread")
    mode.add_argument("--continue", dest="continue_run", action="store_true",
                      help="finish an interrupted run on --thread from its last completed step")
    ask.add_argument("--json", action="store_true",
                     help='print {"thread_id", "status", "intent", "answer", "question", "steps"}')
    ask.set_defaults(func=cmd_ask)

    kb = subparsers.add_parser("kb", help="load or search the knowledge documents")
    kb_sub = kb.add_subparsers(dest="kb_action", metavar="ACTION", required=True)
    load = kb_sub.add_parser("load", help="load the shipped documents, or your own .md files/directories")
    load.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                      help="a .md file or a directory of them (none: reload the shipped documents)")
    search = kb_sub.add_parser("search", help="show the best-ranked documents for a query")
    search.add_argument("query", help="words to search for, as a person would ask")
    search.add_argument("--limit", type=int, default=5, metavar="N",
                        help="how many documents to show, 1 to 50 (default 5)")
    kb.set_defaults(func=cmd_kb)


def _check_args(args: argparse.Namespace) -> None:
    from agents.guard import validate_message

    if args.thread is not None and not 0 < len(args.thread.strip()) <= MAX_THREAD_ID_CHARS:
        raise CommandError(f"--thread must be 1 to {MAX_THREAD_ID_CHARS} characters")
    if args.resume is not None or args.continue_run:
        flag = "--resume" if args.resume is not None else "--continue"
        if args.thread is None:
            raise CommandError(f"{flag} needs --thread ID")
        if args.question is not None:
            raise CommandError(f"give either a question or {flag}, not both")
        if args.resume is not None and (reason := validate_message(args.resume)):
            raise CommandError(reason)
        return
    if args.question is None:
        raise CommandError("a question is required (or --resume / --continue with --thread)")
    reason = validate_message(args.question)
    if reason is not None:
        raise CommandError(reason)


def cmd_ask(args: argparse.Namespace) -> int:
    _check_args(args)
    thread, outcome = asyncio.run(ask(args.question, thread_id=args.thread, resume=args.resume,
                                      continue_run=args.continue_run))
    print_outcome(thread, outcome, as_json=args.json)
    return EXIT_QUESTION if outcome.status == "needs_input" else 0


async def open_database(settings: Settings, max_size: int = 4) -> asyncpg.Pool:
    """The pool, after applying pending migrations (so a fresh data directory just works)."""
    dsn = await asyncio.to_thread(resolve_dsn, settings)
    con = await connect(settings, dsn)
    try:
        await migrate_up(con)
    finally:
        await con.close()
    return await create_pool(settings, dsn, min_size=1, max_size=max_size)


async def ask(question: str | None, *, thread_id: str | None = None, resume: str | None = None,
              continue_run: bool = False, settings: Settings | None = None) -> tuple[str, RunOutcome]:
    """Run the graph once on a thread (new by default); (thread id, its outcome)."""
    from agents.graph import resume_input, user_input
    from agents.models import ModelUnavailable
    from agents.outcome import read_outcome
    from api.orchestrator import build_orchestrator

    settings = settings or load_settings()
    pool = await open_database(settings)
    try:
        graph = await build_orchestrator(pool, settings)
        thread = thread_id or str(uuid.uuid4())
        config: dict[str, Any] = {"configurable": {"thread_id": thread, "user_id": None}}
        before = await read_outcome(graph, config)  # type: ignore[arg-type]
        graph_input: Any
        if resume is not None:
            if before.status != "needs_input":
                raise CommandError(f"thread {thread} is not waiting for an answer (status: {before.status})")
            graph_input = resume_input(resume)
        elif continue_run:
            if before.status != "incomplete":
                hint = "; answer it with --resume" if before.status == "needs_input" else ""
                raise CommandError(f"thread {thread} has nothing to continue (status: {before.status}){hint}")
            graph_input = None
        else:
            if before.status == "needs_input":
                raise CommandError(f"thread {thread} is waiting for an answer to: {before.question} "
                                   "(use --resume)")
            if before.status == "incomplete":
                raise CommandError(f"thread {thread} has an unfinished run (use --continue)")
            graph_input = user_input(question or "")
        try:
            await graph.ainvoke(graph_input, config, durability="sync")  # type: ignore[arg-type]
        except ModelUnavailable as exc:
            raise CommandError(str(exc)) from None
        return thread, await read_outcome(graph, config)  # type: ignore[arg-type]
    finally:
        await pool.close()


def print_outcome(thread: str, outcome: RunOutcome, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"thread_id": thread, "status": outcome.status, "intent": outcome.intent,
                          "answer": outcome.reply, "question": outcome.question, "steps": list(outcome.steps)},
                         indent=2))
        return
    if outcome.status == "needs_input":
        print(outcome.question)
        print(f'\n(answer with: navigator ask --thread {thread} --resume "...")')
    else:
        print(outcome.reply or f"(no answer: status {outcome.status})")
    print(f"thread: {thread}", file=sys.stderr)


def cmd_kb(args: argparse.Namespace) -> int:
    return asyncio.run(_kb(args))


async def _kb(args: argparse.Namespace) -> int:
    from agents.kb import DocumentError, load_directory, shipped_documents
    from api.orchestrator import ensure_shipped_knowledge

    if args.kb_action == "search" and not 1 <= args.limit <= 50:
        raise CommandError("--limit must be between 1 and 50")
    docs: list[dict[str, Any]] = []
    if args.kb_action == "load" and args.paths:
        try:
            for path in args.paths:
                if not path.exists():
                    raise CommandError(f"{path}: no such file or directory")
                docs.extend(doc.as_dict() for doc in load_directory(path))
        except DocumentError as exc:
            raise CommandError(str(exc)) from None
    settings = load_settings()
    pool = await open_database(settings, max_size=2)
    try:
        if args.kb_action == "search":
            await ensure_shipped_knowledge(pool)
            for hit in await search_documents(pool, args.query, limit=args.limit):
                print(f"{hit['rank']:.4f}  {hit['slug']:<32} {hit['title']} ({hit['source']})")
            return 0
        if docs:
            try:
                result = await upsert_documents(pool, docs, origin="operator")
            except (ValueError, asyncpg.CheckViolationError) as exc:
                raise CommandError(f"nothing loaded: {str(exc).splitlines()[0]}") from None
        else:
            result = await upsert_documents(pool, [d.as_dict() for d in shipped_documents()], origin="shipped")
        counts = await count_documents(pool)
        print(f"loaded: {result.inserted} new, {result.updated} updated, {result.unchanged} unchanged; "
              f"documents: {counts.get('shipped', 0)} shipped, {counts.get('operator', 0)} operator")
        return 0
    finally:
        await pool.close()
