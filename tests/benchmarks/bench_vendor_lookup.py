"""Helpdesk lookup (`/vendor/order/formatted` by email) against a minimal authenticated DRF
endpoint (`/vendor/ping`) on the same server, same run. Target: lookup >= 0.5 x ping."""

import random

from tests.benchmarks.harness import Context, Result, Server, median, requests_per_second


def run(ctx: Context) -> list[Result]:
    from integrations.services import api_key_create
    from subscriptions.models import Customer, Shop

    shop = Shop.objects.get(domain="demo-shop.example")
    _, raw = api_key_create(shop=shop, token_nickname="benchmark", permissions={"subscriptions": "read"})
    rng = random.Random(7)
    ids = list(Customer.objects.filter(shop=shop).values_list("id", flat=True))
    sample = rng.sample(ids, min(len(ids), 400))
    emails = list(Customer.objects.filter(id__in=sample).values_list("email", flat=True))
    count = 600 if ctx.quick else 2000
    rounds = 2 if ctx.quick else 3
    headers = {"x-smartrr-access-token": raw}

    ping_rates, lookup_rates = [], []
    with Server(ctx) as server:
        ping_urls = [f"{server.url}/vendor/ping"] * count
        lookup_urls = [
            f"{server.url}/vendor/order/formatted?filterLike[emailOrName]={emails[i % len(emails)]}"
            for i in range(count)
        ]
        requests_per_second(ping_urls[:100], headers)  # warm up both workers
        requests_per_second(lookup_urls[:100], headers)
        for _ in range(rounds):
            ping_rates.append(requests_per_second(ping_urls, headers))
            lookup_rates.append(requests_per_second(lookup_urls, headers))
    return [
        Result(
            name="vendor lookup (order/formatted by email)",
            unit="req/s",
            figure=median(lookup_rates),
            baseline=median(ping_rates),
            baseline_name="minimal authenticated DRF endpoint /vendor/ping",
            target=">= 0.5",
            ratio_min=0.5,
            notes=f"gunicorn 2 workers, 4 client threads, {count} requests x {rounds} rounds each, median.",
        )
    ]
