"""Command line, setup validation, import/export and benchmarks (may import every layer)."""
