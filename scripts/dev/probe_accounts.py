#!/usr/bin/env python3
"""Probe the accounts the way an attacker would, over a real `navigator serve` process.

    python scripts/dev/probe_accounts.py --pairs 200 --accounts 100

Starts `navigator serve --port 0` on a throw-away embedded PostgreSQL with
TRUSTED_PROXIES=127.0.0.1, so each request can pose as any client address in
X-Forwarded-For. Then:

1. enumeration: registers `--pairs` addresses, then registers each again next
   to a fresh one (in pairs, random order), from as many addresses, and prints
   both medians and 90th percentiles and their gap (the suite holds the medians
   within 5 ms over 50 each);
2. stuffing: `--accounts` accounts x 3 guesses from one address, counting what
   was checked (401) and what was refused unchecked (429), then whether the
   real owner signs in from another address.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
URL = re.compile(r"listening on (http://\S+) ")
PASSWORD = "a probing passphrase"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def new_email() -> str:
    return f"probe-{uuid.uuid4().hex[:12]}@example.com"


def posing_as(index: int) -> dict[str, str]:
    """A client address of its own for request `index` (TEST-NET and benchmarking ranges)."""
    return {"X-Forwarded-For": f"198.18.{index // 250 % 250}.{index % 250 + 1}"}


async def enumeration(http: httpx.AsyncClient, pairs: int) -> None:
    taken = [new_email() for _ in range(pairs)]
    for i, email in enumerate(taken):
        (await http.post("/auth/register", json={"email": email, "password": PASSWORD},
                         headers=posing_as(i))).raise_for_status()
    times: dict[bool, list[float]] = {True: [], False: []}
    bodies: set[str] = set()
    coin = random.Random(14)
    for i, email in enumerate(taken):
        pair = [(True, email), (False, new_email())]
        coin.shuffle(pair)
        for is_taken, address in pair:
            started = time.perf_counter()
            response = await http.post("/auth/register", json={"email": address, "password": "another one 2"},
                                       headers=posing_as(pairs + 2 * i + is_taken))
            times[is_taken].append((time.perf_counter() - started) * 1000)
            bodies.add(f"{response.status_code} {response.json().get('detail')}")
    print(f"registration, {pairs} taken and {pairs} free addresses in pairs (answers seen: {len(bodies)})")
    for label, is_taken in (("taken", True), ("free ", False)):
        print(f"  {label}  median {statistics.median(times[is_taken]):.1f} ms  "
              f"p90 {percentile(times[is_taken], 90):.1f} ms")
    gap = statistics.median(times[True]) - statistics.median(times[False])
    print(f"  median gap {gap:+.1f} ms")


async def stuffing(http: httpx.AsyncClient, accounts: int) -> None:
    owner = new_email()
    home = {"X-Forwarded-For": "192.0.2.10"}
    (await http.post("/auth/register", json={"email": owner, "password": PASSWORD}, headers=home)).raise_for_status()
    targets = [owner] + [new_email() for _ in range(accounts - 1)]
    attacker = {"X-Forwarded-For": "203.0.113.66"}
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    for guess in range(3):
        for email in targets:
            response = await http.post("/auth/login", json={"email": email, "password": f"guess {guess}"},
                                       headers=attacker)
            statuses[response.status_code] += 1
    elapsed = time.perf_counter() - started
    retry = (await http.post("/auth/login", json={"email": new_email(), "password": "x"}, headers=attacker))
    print(f"stuffing, {accounts} accounts x 3 guesses from one address: {dict(statuses)} in {elapsed:.1f} s; "
          f"next allowed in {retry.headers.get('retry-after')} s")
    for where, headers in (("home", home), ("a new address", {"X-Forwarded-For": "192.0.2.99"})):
        response = await http.post("/auth/login", json={"email": owner, "password": PASSWORD}, headers=headers)
        print(f"  the owner from {where}: {response.status_code}")


async def probe(base: str, pairs: int, accounts: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        for _ in range(3):  # warm up: the first hashes and statements
            await http.post("/auth/register", json={"email": new_email(), "password": PASSWORD},
                            headers={"X-Forwarded-For": "198.51.100.1"})
        await enumeration(http, pairs)
        await stuffing(http, accounts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=100)
    args = parser.parse_args(argv)
    navigator = Path(sys.executable).parent / "navigator"
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(TRUSTED_PROXIES="127.0.0.1", REGISTER_GLOBAL_ATTEMPTS="100000", LLM_PROVIDER="offline",
               REGISTRATION_CONFIRMATION="off")
    with tempfile.TemporaryDirectory(prefix="probe-accounts-") as data_dir:
        env["NAVIGATOR_DATA_DIR"] = data_dir
        server = subprocess.Popen([str(navigator), "serve", "--port", "0", "--no-workers"], cwd=ROOT, env=env,
                                  text=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            match = URL.search(line)
            if not match:
                print(f"probe: navigator serve did not start: {line.strip()}", file=sys.stderr)
                return 1
            asyncio.run(probe(match.group(1), args.pairs, args.accounts))
        finally:
            server.terminate()
            server.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
