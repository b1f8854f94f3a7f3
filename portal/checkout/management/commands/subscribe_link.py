"""Print the hosted subscribe page of a shop's first subscribable product (`make run` shows it)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from portal.checkout.selectors import first_subscribable_product
from subscriptions.models import Shop


class Command(BaseCommand):
    help = "Print the subscribe page URL of a shop's first product sold by subscription."

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="Shop domain, for example demo-shop.example.")

    def handle(self, *args, shop: str, **options):
        found = Shop.objects.filter(domain=shop.strip().lower()).first()
        if found is None:
            raise CommandError("No such shop.")
        product = first_subscribable_product(shop=found)
        if product is None:
            raise CommandError(f"{found.name} sells nothing by subscription yet.")
        path = reverse("checkout:product", kwargs={"shop": found.domain, "product": product.pk})
        self.stdout.write(settings.SITE_URL + path)
