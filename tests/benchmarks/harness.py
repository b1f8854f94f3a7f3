"""Shared benchmark plumbing: a seeded database, a real server, a load loop, and the report."""

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


@dataclass
class Result:
    name: str
    unit: str
    figure: float
    baseline: float
    baseline_name: str
    target: str
    ratio_min: float | None = None  # pass when figure/baseline >= ratio_min
    ratio_max: float | None = None  # pass when figure/baseline <= ratio_max (times, not rates)
    notes: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.figure / self.baseline if self.baseline else float("nan")

    @property
    def passed(self) -> bool:
        if self.extra.get("errors"):  # a load test with errors fails whatever its speed
            return False
        if self.ratio_min is not None and self.ratio < self.ratio_min:
            return False
        return not (self.ratio_max is not None and self.ratio > self.ratio_max)


@dataclass
class Context:
    customers: int
    quick: bool
    database_url: str
    env: dict


def machine() -> dict:
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def database_description(ctx: Context) -> str:
    """ "PostgreSQL 15.8" or "SQLite 3.45.1": what the figures were measured on."""
    try:
        from django.db import connection

        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SHOW server_version")
                return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
            if connection.vendor == "sqlite":
                cursor.execute("SELECT sqlite_version()")
                return f"SQLite {cursor.fetchone()[0]}"
            return connection.vendor
    except Exception:  # the report still names the URL scheme
        return ctx.database_url.split("://", 1)[0]


def manage(ctx: Context, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=ctx.env, check=check, capture_output=True, text=True
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn on 127.0.0.1 with the benchmark database, started and stopped around a benchmark."""

    def __init__(self, ctx: Context, workers: int = 2):
        self.ctx = ctx
        self.port = free_port()
        self.workers = workers
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Server":
        env = dict(self.ctx.env, VENDOR_API_RATE_LIMIT=str(10**9), LOG_LEVEL="WARNING")
        self.proc = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "config.wsgi",
                "-b",
                f"127.0.0.1:{self.port}",
                "-w",
                str(self.workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("benchmark server did not start")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def requests_per_second(urls: list[str], headers: dict, *, threads: int = 4, expect: int = 200) -> float:
    """Fire every URL once from `threads` keep-alive sessions; return completed requests per second."""
    chunks = [urls[i::threads] for i in range(threads)]
    errors: list[str] = []

    def work(chunk: list[str]) -> None:
        with requests.Session() as session:
            for url in chunk:
                response = session.get(url, headers=headers, timeout=30)
                if response.status_code != expect:
                    errors.append(f"{url} -> {response.status_code}")

    workers = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} unexpected answers, first: {errors[0]}")
    return len(urls) / elapsed


def median(values: list[float]) -> float:
    return statistics.median(values)


def write_report(results: list[Result], ctx: Context, out_dir: Path) -> None:
    out_dir.mkdir(exist_ok=True)
    database = database_description(ctx)
    info = {"machine": machine(), "database": database, "customers": ctx.customers, "quick": ctx.quick}
    rows = []
    for r in results:
        row = asdict(r)
        row.update(ratio=round(r.ratio, 3), passed=r.passed)
        rows.append(row)
    (out_dir / "report.json").write_text(json.dumps({"run": info, "results": rows}, indent=2))
    lines = [
        "# Benchmark report",
        "",
        f"Machine: {info['machine']['cores']} cores, {info['machine']['memory_gib']} GiB, Python {info['machine']['python']}; "
        f"database: {database}; dataset: seed_demo --customers {ctx.customers}{' (quick)' if ctx.quick else ''}.",
        "",
        "| benchmark | figure | baseline (same run) | ratio | target | result |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.figure:,.1f} {r.unit} | {r.baseline:,.1f} {r.unit} ({r.baseline_name}) | "
            f"{r.ratio:.2f} | {r.target} | {'pass' if r.passed else 'FAIL'} |"
        )
    notes = [f"- **{r.name}**: {r.notes}" for r in results if r.notes]
    if notes:
        lines += ["", "Notes:", *notes]
    (out_dir / "report.md").write_text("\n".join(lines) + "\n")
