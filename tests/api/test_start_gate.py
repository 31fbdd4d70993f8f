"""StartGate: at most `size` runs between their start and their first model call; turns open in
groups; a run that calls no model, fails or is cancelled hands its turn on."""

from __future__ import annotations

import asyncio

import pytest

from agents.usage import call_starting
from api.start_gate import StartGate


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


class Runs:
    """Runs that each take a turn, then (when told) call their model or end."""

    def __init__(self, gate: StartGate) -> None:
        self.gate = gate
        self.inside: list[int] = []
        self.go: dict[int, asyncio.Event] = {}
        self.tasks: dict[int, asyncio.Task[None]] = {}

    def start(self, number: int, *, calls_model: bool = True) -> None:
        self.go[number] = asyncio.Event()

        async def run() -> None:
            async with self.gate.turn():
                self.inside.append(number)
                await self.go[number].wait()
                if calls_model:
                    call_starting()  # its turn ends here: the model call itself may take long
                    await asyncio.Event().wait()

        self.tasks[number] = asyncio.create_task(run())

    async def release(self, *numbers: int) -> None:
        for number in numbers:
            self.go[number].set()
        await settle()

    def stop(self) -> None:
        for task in self.tasks.values():
            task.cancel()


async def test_at_most_size_runs_before_their_model_and_turns_open_in_groups() -> None:
    runs = Runs(StartGate(4))
    for number in range(10):
        runs.start(number)
    await settle()
    assert runs.inside == [0, 1, 2, 3]
    await runs.release(0)  # 3 still hold a turn: more than half, no new turn yet
    assert runs.inside == [0, 1, 2, 3]
    await runs.release(1)  # 2 left: turns open up to 4 again, in order
    assert runs.inside == [0, 1, 2, 3, 4, 5]
    await runs.release(2, 3, 4, 5)
    assert runs.inside == list(range(10))
    runs.stop()


async def test_a_run_without_a_model_call_or_that_fails_hands_its_turn_on() -> None:
    gate = StartGate(2)
    runs = Runs(gate)
    runs.start(0, calls_model=False)

    fail = asyncio.Event()

    async def failing() -> None:
        async with gate.turn():
            await fail.wait()
            raise RuntimeError("a bug in a node")

    failed = asyncio.create_task(failing())
    runs.start(2)
    await settle()
    assert runs.inside == [0]
    fail.set()
    with pytest.raises(RuntimeError):
        await failed
    await settle()
    assert runs.inside == [0, 2]
    await runs.release(0)  # ends without a model call
    runs.start(3)
    await settle()
    assert runs.inside == [0, 2, 3]
    runs.stop()


async def test_a_run_cancelled_while_waiting_or_just_admitted_takes_no_turn_with_it() -> None:
    runs = Runs(StartGate(1))
    runs.start(0)
    runs.start(1)
    runs.start(2)
    await settle()
    runs.tasks[1].cancel()  # cancelled while waiting
    await runs.release(0)
    assert runs.inside == [0, 2]
    runs.start(3)
    await settle()
    runs.go[2].set()
    runs.tasks[3].cancel()  # its turn opens as it is cancelled: the turn goes to the next
    runs.start(4)
    await settle()
    assert runs.inside == [0, 2, 4]
    runs.stop()
