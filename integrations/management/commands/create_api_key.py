"""Create a vendor API key from the command line and print it (the only time it is shown).

    manage.py create_api_key --shop my-shop.myshopify.com --name "Gorgias helpdesk" \
        --application Gorgias --perm subscriptions:rw --perm customers:r --expires 2027-01-31
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from integrations.models import RESOURCES
from integrations.services import api_key_create, api_key_expiry, parse_permissions
from subscriptions.errors import DomainError
from subscriptions.models import Shop


class Command(BaseCommand):
    help = "Create an API key for a shop and print it. The key is shown once and never stored."

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="The shop's domain, e.g. my-shop.myshopify.com.")
        parser.add_argument("--name", required=True, help="Token nickname: what the key is for.")
        parser.add_argument("--application", default="", help="Application nickname, e.g. Gorgias.")
        parser.add_argument(
            "--perm",
            action="append",
            default=[],
            metavar="RESOURCE:LEVEL",
            help=f"Repeatable. RESOURCE is one of {', '.join(RESOURCES)} or all; LEVEL is r or rw.",
        )
        parser.add_argument(
            "--expires", help="YYYY-MM-DD: the key stops working at the start of that day (shop time)."
        )

    def handle(self, *args, shop, name, application, perm, expires, **options):
        found = (
            Shop.objects.filter(domain=shop.strip().lower()).first()
            or Shop.objects.filter(domain__iexact=shop.strip()).first()
        )
        if found is None:
            raise CommandError(f"No shop with the domain '{shop}'.")
        if not perm:
            raise CommandError("Give at least one --perm, e.g. --perm subscriptions:rw.")
        try:
            permissions = parse_permissions(perm)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        expires_at = None
        if expires:
            try:
                date = dt.date.fromisoformat(expires)
            except ValueError as exc:
                raise CommandError(f"--expires '{expires}' is not a date as YYYY-MM-DD.") from exc
            expires_at = api_key_expiry(shop=found, date=date)
        try:
            key, raw = api_key_create(
                shop=found,
                token_nickname=name,
                application_nickname=application,
                permissions=permissions,
                expires_at=expires_at,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        granted = ", ".join(f"{r}:{key.access(r)}" for r in RESOURCES if key.access(r) != "none")
        self.stderr.write(f"Created API key '{key.token_nickname}' for {found.domain} ({granted}).")
        self.stderr.write("Copy it now: it is shown only this once.")
        self.stdout.write(raw)
