"""What a run's model calls cost, as its answer records it (db/usage.py sums it per day)."""

from __future__ import annotations

from agents.usage import ModelCall, UsageMeter


def test_the_summary_counts_failed_calls_and_sums_what_was_reported() -> None:
    meter = UsageMeter()
    assert meter.summary() is None
    meter(ModelCall("openai", "m", 0.25, input_tokens=10, output_tokens=5))
    meter(ModelCall("openai", "m", 0.5, error="http_429"))
    meter(ModelCall("openai", "m", 0.25, input_tokens=7))
    assert meter.summary() == {"provider": "openai", "model": "m", "calls": 3, "errors": 1, "input_tokens": 17,
                               "output_tokens": 5, "latency_ms": 1000}
