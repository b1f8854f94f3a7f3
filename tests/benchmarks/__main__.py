"""`python -m tests.benchmarks [--customers N] [--quick] [--only NAME]`.

Seeds (once, reused across runs) a benchmark database with `seed_demo`, runs every
`bench_*.py` module and writes benchmarks/report.md and benchmarks/report.json.
"""

import argparse
import importlib
import os
import pkgutil
import sys
import time

from tests.benchmarks.harness import ROOT, Context, manage, write_report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--customers", type=int, default=None, help="seed_demo size (default 100000, quick 5000)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="small dataset and short loops (under 5 minutes)"
    )
    parser.add_argument(
        "--only", action="append", default=[], help="run only benchmarks whose name contains this"
    )
    args = parser.parse_args()
    customers = args.customers or (5000 if args.quick else 100000)

    database_url = (
        os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{ROOT / 'var' / f'bench-{customers}.sqlite3'}"
    )
    env = dict(os.environ, DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="config.settings")
    ctx = Context(customers=customers, quick=args.quick, database_url=database_url, env=env)

    started = time.time()
    print(f"preparing benchmark database ({database_url}) with {customers} customers ...", flush=True)
    manage(ctx, "migrate", "--noinput")
    manage(ctx, "createcachetable")
    seeded = manage(ctx, "seed_demo", "--customers", str(customers))
    print(seeded.stdout.strip().splitlines()[-1] if seeded.stdout.strip() else "", flush=True)

    os.environ.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="config.settings")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()

    results = []
    package = importlib.import_module("tests.benchmarks")
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not module_info.name.startswith("bench_"):
            continue
        if args.only and not any(o in module_info.name for o in args.only):
            continue
        module = importlib.import_module(f"tests.benchmarks.{module_info.name}")
        print(f"running {module_info.name} ...", flush=True)
        for result in module.run(ctx):
            print(
                f"  {result.name}: {result.figure:,.1f} {result.unit} vs {result.baseline:,.1f} -> ratio {result.ratio:.2f} "
                f"(target {result.target}) {'pass' if result.passed else 'FAIL'}",
                flush=True,
            )
            results.append(result)
    write_report(results, ctx, ROOT / "benchmarks")
    print(f"wrote benchmarks/report.md in {time.time() - started:.0f} s")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
