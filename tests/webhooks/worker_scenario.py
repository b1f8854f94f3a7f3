"""Steps of the worker-kill test that run in their own process, against the database and broker the
environment names (the test's private SQLite file and file-system broker, never the suite's).

    python -m tests.webhooks.worker_scenario emit <receiver url>   # shop, endpoint, one event
    python -m tests.webhooks.worker_scenario sweep                 # prints how many were handed out
"""

import sys


def emit(url: str) -> None:
    from django.db import transaction

    from tests import factories as f
    from webhooks.outbox import emit
    from webhooks.services import endpoint_create

    shop = f.ShopFactory()
    endpoint_create(shop_id=shop.pk, url=url, events=["subscription.skipped"])
    # Committing kicks the relay through the broker, as a service's change would.
    with transaction.atomic():
        emit(
            shop_id=shop.pk,
            shop=shop.domain,
            type="subscription.skipped",
            actor="admin",
            data={"subscription": {"id": 1}},
        )


def sweep() -> None:
    from webhooks import engine

    print(len(engine.sweep()))


def main(argv: list[str]) -> None:
    import django

    django.setup()
    if argv[0] == "emit":
        emit(argv[1])
    elif argv[0] == "sweep":
        sweep()
    else:
        raise SystemExit(f"unknown step {argv[0]}")


if __name__ == "__main__":
    main(sys.argv[1:])
