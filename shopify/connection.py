"""The shop's Shopify store connection: an `Integration` (partner "shopify") holding the
`*.myshopify.com` domain and the custom app's Admin API access token, encrypted at rest, plus the
app's API secret that signs Shopify's webhooks (or `SHOPIFY_APP_SECRET` for one app serving every
shop). Shopify Flow uses the same connection (see integrations.adapters.shopify_flow).

The connection is also a destination of the delivery engine: a successful renewal
(`subscription.transaction_succeeded`) becomes a Shopify order (shopify.orders). Unticking that
event keeps orders here only.
"""

from django.conf import settings

from integrations.adapters.shopify_flow import clean_shop_domain
from integrations.models import Integration
from integrations.partners import PartnerError
from shopify.client import ShopifyClient, ShopifyError
from subscriptions.actors import Actor
from subscriptions.models import Shop

KEY = "shopify"
ACTOR = Actor.integration(KEY)
LIVE = (Integration.State.CONNECTED, Integration.State.NEEDS_ATTENTION)
SHOP_QUERY = "{ shop { name } }"


class NotConnected(Exception):
    pass


def store_connection(shop: Shop | int) -> Integration | None:
    shop_id = shop if isinstance(shop, int) else shop.pk
    return Integration.objects.filter(shop_id=shop_id, partner=KEY, state__in=LIVE).first()


def connection_for_domain(shop_domain: str) -> Integration | None:
    domain = (shop_domain or "").strip().lower()
    if not domain:
        return None
    return (
        Integration.objects.select_related("shop")
        .filter(partner=KEY, state__in=LIVE, config__shop_domain=domain)
        .first()
    )


def client_for(integration: Integration, **kwargs) -> ShopifyClient:
    creds = integration.credentials or {}
    return ShopifyClient(creds["shop_domain"], creds["access_token"], **kwargs)


def shop_client(shop: Shop | int, **kwargs) -> ShopifyClient:
    integration = store_connection(shop)
    if integration is None:
        raise NotConnected("This shop is not connected to a Shopify store.")
    return client_for(integration, **kwargs)


def webhook_secrets(integration: Integration | None) -> list[str]:
    """Secrets a webhook for this shop may be signed with: the shop's own custom app's API secret,
    and the platform app's (`SHOPIFY_APP_SECRET`)."""
    found = []
    if integration is not None and (integration.credentials or {}).get("api_secret"):
        found.append(integration.credentials["api_secret"])
    if settings.SHOPIFY_APP_SECRET:
        found.append(settings.SHOPIFY_APP_SECRET)
    return found


def connect(integration: Integration) -> None:
    """Check the domain's shape, then ask Shopify for the shop's name with the token: proves that
    domain and token belong together. One store serves one shop here (webhooks find the shop by it)."""
    domain = clean_shop_domain(integration.credentials.get("shop_domain", ""))
    integration.credentials = {**integration.credentials, "shop_domain": domain}
    taken = (
        Integration.objects.filter(partner=KEY, state__in=LIVE, config__shop_domain=domain)
        .exclude(shop_id=integration.shop_id)
        .exists()
    )
    if taken:
        raise PartnerError(f"{domain} is already connected to another shop", field="shop_domain")
    try:
        data = client_for(integration).execute(SHOP_QUERY)
    except ShopifyError as exc:
        field = exc.field or ("shop_domain" if exc.kind in ("not_found", "unavailable") else None)
        raise PartnerError(exc.message, field=field, status=exc.status) from exc
    name = (data.get("shop") or {}).get("name")
    if not name:
        raise PartnerError("Shopify did not answer with the shop's name", status=200)
    integration.config = {**(integration.config or {}), "shop_domain": domain, "shop_name": name}


def after_connect(integration: Integration) -> None:
    """A newly connected store brings its catalogue in (in the background)."""
    from shopify.tasks import catalogue_import_task

    try:
        catalogue_import_task.delay(integration.shop_id)
    except Exception:  # broker down: the merchant can start it from the console
        pass
