import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from subscriptions.models import Shop
from subscriptions.services.notices import shop_send_notices


class Command(BaseCommand):
    help = "Send the notices due on a date (upcoming orders, auto-resume) and resume paused subscriptions due. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default: today in each shop's timezone)")
        parser.add_argument("--shop", help="only this shop domain")

    def handle(self, *args, date=None, shop=None, **options):
        try:
            day = dt.date.fromisoformat(date) if date else None
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD, not {date!r}.") from exc
        shops = Shop.objects.all()
        if shop:
            shops = shops.filter(domain=shop)
            if not shops.exists():
                raise CommandError(f"No shop with domain {shop!r}.")
        for each in shops:
            sent = shop_send_notices(shop=each, today=day)
            self.stdout.write(f"{each.domain}: " + ", ".join(f"{v} {k}" for k, v in sent.items()))
