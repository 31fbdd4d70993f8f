"""`navigator export` and `navigator import`: people's data out of and into the database.

export writes every account (or one, `--user EMAIL`) as the JSON document `GET /me/export` gives
a person (db/lifecycle/export.py); `--with-secrets` adds the password and API key hashes, for
moving the whole service to another database. import reads such a document back (idempotent:
twice gives the same rows), or the JSON files of a file-based chat app (`--user EMAIL` says whose
history they are), and reports what it stored.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg

from db.audit import AuditLog
from db.lifecycle.export import EXPORTED_SECTIONS, dumps, export_users
from db.lifecycle.importer import ImportReport, NotAnExport, import_document, import_into_account
from db.pool import create_pool
from db.settings import Settings, load_settings
from db.users import SELECT_USER_ID_BY_EMAIL
from scripts.chat_files import BadChatFile, chat_files_entry, looks_like_chat_file
from scripts.cli import CommandError


def register(subparsers: argparse._SubParsersAction) -> None:
    export = subparsers.add_parser("export", help="write people's data as JSON (every account, or one)")
    export.add_argument("--user", metavar="EMAIL", help="only this account")
    export.add_argument("--out", metavar="FILE", type=Path, help="write here (mode 0600) instead of stdout")
    export.add_argument("--with-secrets", action="store_true",
                        help="include password and API key hashes (to move the service to another database)")
    export.set_defaults(func=cmd_export)

    imported = subparsers.add_parser("import", help="read an export, or a chat app's JSON files, into the database")
    imported.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                          help="an export file, or chat files / folders of them")
    imported.add_argument("--user", metavar="EMAIL", help="the account a chat app's conversations belong to")
    imported.set_defaults(func=cmd_import)


def cmd_export(args: argparse.Namespace) -> int:
    return asyncio.run(export(load_settings(), args.user, args.out, args.with_secrets))


def cmd_import(args: argparse.Namespace) -> int:
    return asyncio.run(import_paths(load_settings(), args.paths, args.user))


async def export(settings: Settings, email: str | None, out: Path | None, with_secrets: bool) -> int:
    key = settings.document_key()
    pool = await create_pool(settings, min_size=1, max_size=2)
    try:
        ids = None
        if email is not None:
            user_id = await pool.fetchval(SELECT_USER_ID_BY_EMAIL, email)
            if user_id is None:
                raise CommandError(f"no account with email {email}")
            ids = [user_id]
        document = await export_users(pool, key, ids, with_secrets=with_secrets)
        audit = AuditLog(pool)
        for exported in document["users"]:
            await audit.record("account.exported", user_id=uuid.UUID(exported["user"]["id"]),
                               details={"via": "cli", "with_secrets": with_secrets})
    finally:
        await pool.close()
    data = dumps(document)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_private(out, data)
    users = document["users"]
    counts = Counter({name: sum(len(u[name]) for u in users)
                      for name in ("conversations", "conversation_messages", "documents")})
    print(f"exported {len(users)} accounts ({counts['conversations']} conversations, "
          f"{counts['conversation_messages']} messages, {counts['documents']} documents)"
          + (f" to {out}" if out is not None else ""), file=sys.stderr)
    return 0


def write_private(path: Path, data: bytes) -> None:
    """Whole or not at all, readable by its owner only: it holds people's health conversations."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None


def read_json_files(paths: list[Path]) -> list[tuple[str, Any]]:
    """(name, parsed JSON) of each file, and of each *.json file in a folder, in name order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(path.glob("*.json"))
        elif path.is_file():
            files.append(path)
        else:
            raise CommandError(f"{path}: no such file or folder")
    if not files:
        raise CommandError("no JSON files to import")
    parsed = []
    for file in files:
        try:
            parsed.append((str(file), json.loads(file.read_bytes())))
        except json.JSONDecodeError as exc:
            raise CommandError(f"{file}: not JSON ({exc.msg} at line {exc.lineno})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{file}: cannot read it ({type(exc).__name__})") from None
    return parsed


async def import_paths(settings: Settings, paths: list[Path], email: str | None) -> int:
    files = read_json_files(paths)
    exports = [(name, doc) for name, doc in files if isinstance(doc, dict) and "format" in doc]
    chats = [(name, doc) for name, doc in files if (name, doc) not in exports]
    for name, doc in chats:
        if not looks_like_chat_file(doc):
            raise CommandError(f"{name}: neither an export of this service nor a chat file "
                               "(an object with id, created_at, title and messages)")
    if chats and email is None:
        raise CommandError("chat files need --user EMAIL: the account whose history they are")
    key = settings.document_key()
    pool = await create_pool(settings, min_size=1, max_size=2)
    reports: list[ImportReport] = []
    try:
        for name, doc in exports:
            try:
                reports.append(await import_document(pool, doc, key))
            except NotAnExport as exc:
                raise CommandError(f"{name}: {exc}") from None
            except (asyncpg.PostgresError, ValueError, KeyError, TypeError) as exc:
                # A hand-edited or damaged file: each account is one transaction, so the one that
                # failed stored nothing (those before it in the file are in).
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise CommandError(f"{name}: an account could not be imported ({reason}); nothing of it was "
                                   "stored") from None
        if chats:
            assert email is not None
            user_id = await pool.fetchval(SELECT_USER_ID_BY_EMAIL, email)
            if user_id is None:
                raise CommandError(f"no account with email {email}; register it first")
            entry = chat_files_entry(chats, user_id, settings.conversation_ttl_hours)
            reports.append(await import_into_account(pool, user_id, entry, key))
    except (NotAnExport, BadChatFile) as exc:
        raise CommandError(str(exc)) from None
    finally:
        await pool.close()
    print(describe(reports, accounts=bool(exports)))
    return 0


def describe(reports: list[ImportReport], *, accounts: bool) -> str:
    """What was stored, section by section in the export's order, then anything left out and why."""
    stored: Counter[str] = Counter()
    left: Counter[str] = Counter()
    for report in reports:
        stored.update(report.stored)
        left.update(report.left)
    order = list(EXPORTED_SECTIONS)

    def listed(counts: Counter[str]) -> str:
        return ", ".join(f"{counts[name]} {name}" for name in sorted(counts, key=order.index) if counts[name])

    lines = []
    if accounts:
        lines.append(f"accounts: {sum(r.users_created for r in reports)} created, "
                     f"{sum(r.users_existing for r in reports)} already there")
    lines.append("stored: " + (listed(stored) or "nothing new"))
    if any(left.values()):
        lines.append("already there (or another account's): " + listed(left))
    lines += [problem for report in reports for problem in report.problems]
    return "\n".join(lines)
