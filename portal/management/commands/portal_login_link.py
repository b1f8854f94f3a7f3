"""Print a fresh single-use sign-in link for a customer (development and support)."""

from django.core.management.base import BaseCommand, CommandError

from portal.services import magic_link_create
from subscriptions.models import Customer


class Command(BaseCommand):
    help = "Print a fresh magic sign-in link for the customer with this email."

    def add_arguments(self, parser):
        parser.add_argument("--email", help="The customer's email (the first customer of --shop if empty).")
        parser.add_argument("--shop", default="", help="Shop domain, when the email exists in several shops.")

    def handle(self, *args, email=None, shop="", **options):
        customers = Customer.objects.select_related("shop").order_by("id")
        if shop:
            customers = customers.filter(shop__domain=shop)
        if email:
            customers = customers.filter(email__iexact=email.strip())
        customer = customers.first()
        if customer is None:
            raise CommandError("No such customer.")
        self.stdout.write(magic_link_create(customer=customer))
