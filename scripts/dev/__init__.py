"""Development tools: benchmarks, chaos, fuzzing and their harness. Not shipped in the wheel."""
