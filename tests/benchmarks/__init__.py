"""Benchmarks, run by `make bench` (never by `make test`). Each module `bench_*.py` exposes
`run(ctx) -> list[Result]`; `python -m tests.benchmarks` runs them and writes benchmarks/report.{md,json}."""
