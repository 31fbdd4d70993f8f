"""Durable runs: a queue in PostgreSQL and each run's event log (this package owns
`runs` and `run_events`, and the `timers` and `outbox` that feed and follow case runs).

- `sql`: every statement on the two tables; `model`: `Run`, `RunEvent`, `RunStatus`, `LeaseLost`;
- `service`: `RunService`, the API side (create, read, cancel, resume, events);
- `queue`: the worker side (claim, heartbeat, fenced events, finish, release);
- `fence`: `RunFence`, what the checkpointer calls for each step and each task's writes;
- `lease`: `RunLease`, one claimed run as the code executing it sees it;
- `notify`: LISTEN/NOTIFY wake-ups; `executor`: the loop that claims and holds runs;
- `timers`: durable timers (owns `timers`), fired into runs; `outbox`: notification deliveries
  (owns `outbox`) to webhooks and email; `polling`: the small loop both run in, beside the executors.
"""

from db.runs.model import LeaseLost, Run, RunEvent, RunStatus
from db.runs.service import RunService

__all__ = ["LeaseLost", "Run", "RunEvent", "RunService", "RunStatus"]
