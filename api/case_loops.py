"""The two small loops that run beside the run executors in every worker process (the API's
lifespan, `navigator worker`): due timers fired into runs (db/runs/timers.py), and the
notification outbox delivered to webhooks and email (db/runs/outbox.py, api/notify.py)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from api.notify import EmailSender, WebhookSender
from db.clock import Clock
from db.runs.outbox import OutboxDeliverer
from db.runs.timers import TimerLoop
from db.settings import Settings


@dataclass
class CaseLoops:
    timers: TimerLoop
    outbox: OutboxDeliverer
    webhooks: WebhookSender

    def wake(self) -> None:
        """Look for due timers and deliveries now (after a test advanced the clock, say)."""
        self.timers.wake()
        self.outbox.wake()

    async def stop(self) -> None:
        await self.timers.stop()
        await self.outbox.stop()
        await self.webhooks.aclose()


def start_case_loops(pool: asyncpg.Pool, settings: Settings, clock: Clock) -> CaseLoops:
    webhooks = WebhookSender(settings)
    loops = CaseLoops(TimerLoop(pool, clock, poll_seconds=settings.timer_poll_seconds),
                      OutboxDeliverer(pool, settings, clock, {"webhook": webhooks, "email": EmailSender(settings)}),
                      webhooks)
    loops.timers.start()
    loops.outbox.start()
    return loops
