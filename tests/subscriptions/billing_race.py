"""Steps of the billing concurrency tests that run in their own processes, against the database the
environment names (the test's scratch database, never the suite's own).

    python -m tests.subscriptions.billing_race setup <shop> <date> <count>   # shop, due subscriptions
    python -m tests.subscriptions.billing_race crash <shop> <date> <count>   # pending orders, then die
    python -m tests.subscriptions.billing_race go <start file> <command> [args ...] [--later SECONDS]
    python -m tests.subscriptions.billing_race report <shop> <date>          # JSON on stdout

`go` sets Django up first, says so (`<start file>.ready.<pid>`), and only then waits for the start file, so two processes started apart
call the management command (`run_billing`, `send_notices`) at the same moment. `--later` runs it
that many seconds in the future (a later run, after the charge lease of a dead worker ran out).
`crash` creates the PENDING orders the way a renewal does (`billing._start_renewal`) and exits
without charging, as a worker killed between the two steps would.
"""

import datetime as dt
import json
import os
import sys
import time

WAIT = 120  # seconds a process waits for the start file


def setup(domain: str, date: str, count: str) -> None:
    from tests import factories as f

    day = dt.date.fromisoformat(date)
    shop = f.ShopFactory(domain=domain, timezone="America/New_York")
    plan = f.PlanFactory(shop=shop)
    for _ in range(int(count)):
        f.SubscriptionFactory(shop=shop, plan=plan, next_billing_date=day, anchor_day=day.day)
    print(shop.pk)


def crash(domain: str, date: str, count: str) -> None:
    from subscriptions.models import Subscription
    from subscriptions.services import billing

    day = dt.date.fromisoformat(date)
    due = Subscription.objects.filter(shop__domain=domain, next_billing_date__lte=day).order_by("pk")
    for sub_id in list(due.values_list("pk", flat=True)[: int(count)]):
        order, _ = billing._start_renewal(sub_id, day)
        assert order is not None
    sys.stdout.flush()
    os._exit(3)  # no clean-up, no charge: the process is gone


def go(start_file: str, command: str, *args: str) -> None:
    from django.core.management import call_command

    later = 0.0
    if "--later" in args:
        i = args.index("--later")
        later = float(args[i + 1])
        args = args[:i] + args[i + 2 :]
    with open(f"{start_file}.ready.{os.getpid()}", "w"):
        pass  # set up: the test starts everyone once all are ready
    deadline = time.monotonic() + WAIT
    while not os.path.exists(start_file):
        if time.monotonic() > deadline:
            raise SystemExit("the start file never appeared")
        time.sleep(0.005)
    if later:
        import time_machine

        with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=later), tick=True):
            call_command(command, *args)
    else:
        call_command(command, *args)


def report(domain: str, date: str) -> None:
    from django.db.models import Count

    from subscriptions.models import Notice, Order, SandboxCharge, Shop, Subscription
    from webhooks.models import OutboxEvent

    day = dt.date.fromisoformat(date)
    shop_id = Shop.objects.get(domain=domain).pk
    subs = Subscription.objects.filter(shop_id=shop_id)
    orders = Order.objects.filter(shop_id=shop_id)
    keys = {f"order-{pk}-{d}-1": pk for pk, d in orders.values_list("pk", "billing_date")}
    charges: dict[int, int] = {pk: 0 for pk in keys.values()}
    for key in SandboxCharge.objects.filter(idempotency_key__in=list(keys)).values_list(
        "idempotency_key", flat=True
    ):
        charges[keys[key]] += 1
    events = OutboxEvent.objects.filter(shop_id=shop_id)
    upcoming: dict[str, int] = {}
    for payload in events.filter(type="subscription.upcoming_order").values_list("payload", flat=True):
        sub_id = str(payload["data"]["subscription"]["id"])
        upcoming[sub_id] = upcoming.get(sub_id, 0) + 1
    print(
        json.dumps(
            {
                "subscriptions": {
                    str(pk): {"order_count": n, "next_billing_date": str(d)}
                    for pk, n, d in subs.values_list("pk", "order_count", "next_billing_date")
                },
                "orders_on_date": {
                    str(row["subscription_id"]): row["n"]
                    for row in orders.filter(billing_date=day)
                    .values("subscription_id")
                    .annotate(n=Count("id"))
                },
                "order_status": {str(pk): status for pk, status in orders.values_list("pk", "status")},
                "charges_per_order": {str(pk): n for pk, n in charges.items()},
                "all_charges": SandboxCharge.objects.filter(idempotency_key__in=list(keys)).count(),
                "notices": {
                    str(row["subscription_id"]): row["n"]
                    for row in Notice.objects.filter(subscription__in=subs, kind=Notice.Kind.UPCOMING_ORDER)
                    .values("subscription_id")
                    .annotate(n=Count("id"))
                },
                "upcoming_events": upcoming,
                "succeeded_events": events.filter(type="subscription.transaction_succeeded").count(),
            }
        )
    )


STEPS = {"setup": setup, "crash": crash, "go": go, "report": report}


def main(argv: list[str]) -> None:
    import django

    django.setup()
    if not argv or argv[0] not in STEPS:
        raise SystemExit(f"usage: billing_race {{{','.join(STEPS)}}} ...")
    STEPS[argv[0]](*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
