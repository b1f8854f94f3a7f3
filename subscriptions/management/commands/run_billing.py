import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from subscriptions.models import Shop
from subscriptions.services.billing import shop_run_billing


class Command(BaseCommand):
    help = "Run (or backfill) a shop's billing for one local date. Idempotent: nothing is charged twice."

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="shop domain")
        parser.add_argument("--date", help="YYYY-MM-DD in the shop's timezone (default: today there)")

    def handle(self, *args, shop, date=None, **options):
        found = Shop.objects.filter(domain=shop).first()
        if found is None:
            raise CommandError(f"No shop with domain {shop!r}.")
        try:
            run_date = dt.date.fromisoformat(date) if date else found.local_today()
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD, not {date!r}.") from exc
        run = shop_run_billing(shop=found, run_date=run_date)
        self.stdout.write(
            f"{found.domain} {run_date}: {run.charged} charged, {run.failed} failed (run #{run.pk})"
        )
