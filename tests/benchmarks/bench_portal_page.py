"""Customer portal pages of a signed-in customer (the subscription page with every action form, and the
overview listing their subscriptions) against a minimal Django view on the same server, same run:
`/healthz` (one `SELECT 1`, a JSON answer). Target: the subscription page >= 0.25 x the minimal view."""

import requests

from tests.benchmarks.harness import Context, Result, Server, median, requests_per_second


def _signed_in_cookie(server: Server, subscription) -> str:
    """Sign in the way a customer does from an email: the signed deep link sets the session cookie."""
    from portal.links import signed_subscription_link

    link = signed_subscription_link(subscription)
    path = link.split("/account/", 1)[1]
    with requests.Session() as session:
        response = session.get(f"{server.url}/account/{path}", timeout=30)
        response.raise_for_status()
        assert f"/account/subscriptions/{subscription.pk}/" in response.url, response.url
        return session.cookies["sessionid"]


def run(ctx: Context) -> list[Result]:
    from django.db.models import Count

    from subscriptions.models import Customer, Subscription

    # A customer with the most subscriptions: the heaviest overview of the demo shop.
    customer = (
        Customer.objects.filter(shop__domain="demo-shop.example")
        .annotate(n=Count("subscriptions"))
        .order_by("-n", "pk")
        .first()
    )
    sub = Subscription.objects.filter(customer=customer).order_by("-pk").first()
    count = 300 if ctx.quick else 1500
    rounds = 2 if ctx.quick else 3

    base_rates, page_rates, overview_rates = [], [], []
    with Server(ctx) as server:
        headers = {"Cookie": f"sessionid={_signed_in_cookie(server, sub)}"}
        base_urls = [f"{server.url}/healthz"] * count
        page_urls = [f"{server.url}/account/subscriptions/{sub.pk}/"] * count
        overview_urls = [f"{server.url}/account/"] * count
        for urls in (base_urls, page_urls, overview_urls):
            requests_per_second(urls[:60], headers)  # warm up both workers
        for _ in range(rounds):
            base_rates.append(requests_per_second(base_urls, headers))
            page_rates.append(requests_per_second(page_urls, headers))
            overview_rates.append(requests_per_second(overview_urls, headers))
    notes = (
        f"customer with {customer.n} subscriptions; gunicorn 2 workers, 4 client threads, {count} requests x "
        f"{rounds} rounds each, median; every answer checked 200."
    )
    baseline = median(base_rates)
    return [
        Result(
            name="portal subscription page (signed-in customer)",
            unit="req/s",
            figure=median(page_rates),
            baseline=baseline,
            baseline_name="minimal Django view /healthz",
            target=">= 0.25",
            ratio_min=0.25,
            notes=notes,
        ),
        Result(
            name="portal overview (signed-in customer's subscriptions)",
            unit="req/s",
            figure=median(overview_rates),
            baseline=baseline,
            baseline_name="minimal Django view /healthz",
            target=">= 0.25",
            ratio_min=0.25,
            notes=notes,
        ),
    ]
