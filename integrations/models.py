"""API keys (Integrations > API Keys) and idempotency records of the vendor API."""

import hashlib
import hmac
import secrets

from django.db import models
from django.utils import timezone

from integrations.crypto import EncryptedJSONField
from subscriptions.models import Shop

RESOURCES = ("subscriptions", "customers", "webhooks", "orders", "loyalty", "discounts")


class Access(models.TextChoices):
    NONE = "none", "No access"
    READ = "read", "Read"
    WRITE = "write", "Read and write"


KEY_PREFIX = "sk_"
# Keys made for an integration (their application nickname) act as that integration: what they
# change is recorded with the actor `integration:<name>`, not `api`.
INTEGRATION_APPLICATIONS = {"gorgias": "gorgias"}


def _hash_secret(salt: str, secret: str) -> str:
    # The secret is 32 random bytes, so one salted SHA-256 is enough (no password stretching needed)
    # and keeps authentication cheap on every request.
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


class ApiKey(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="api_keys")
    token_nickname = models.CharField(max_length=100)
    application_nickname = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    salt = models.CharField(max_length=32, editable=False)
    hashed_secret = models.CharField(max_length=64, editable=False)
    perm_subscriptions = models.CharField(
        "Subscriptions", max_length=5, choices=Access.choices, default=Access.NONE
    )
    perm_customers = models.CharField("Customers", max_length=5, choices=Access.choices, default=Access.NONE)
    perm_webhooks = models.CharField("Webhooks", max_length=5, choices=Access.choices, default=Access.NONE)
    perm_orders = models.CharField("Orders", max_length=5, choices=Access.choices, default=Access.NONE)
    perm_loyalty = models.CharField("Loyalty", max_length=5, choices=Access.choices, default=Access.NONE)
    perm_discounts = models.CharField("Discounts", max_length=5, choices=Access.choices, default=Access.NONE)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.token_nickname} ({self.prefix}…)"

    @property
    def name(self) -> str:
        return self.token_nickname

    @property
    def integration_name(self) -> str:
        return INTEGRATION_APPLICATIONS.get((self.application_nickname or "").strip().lower(), "")

    def access(self, resource: str) -> str:
        return getattr(self, f"perm_{resource}", Access.NONE)

    def allows(self, resource: str, *, write: bool) -> bool:
        level = self.access(resource)
        return level == Access.WRITE or (level == Access.READ and not write)

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= timezone.now():
            return "expired"
        return "active"

    # -- secrets ----------------------------------------------------------------------------
    @staticmethod
    def generate() -> tuple[str, str, str, str]:
        """(full key, prefix, salt, hash). The full key is shown once and never stored."""
        prefix = KEY_PREFIX + secrets.token_hex(5)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_hex(8)
        return f"{prefix}.{secret}", prefix, salt, _hash_secret(salt, secret)

    @staticmethod
    def split(raw: str) -> tuple[str, str] | None:
        prefix, dot, secret = (raw or "").strip().partition(".")
        if not dot or not prefix.startswith(KEY_PREFIX) or not secret:
            return None
        return prefix, secret

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.hashed_secret, _hash_secret(self.salt, secret))


class IdempotencyRecord(models.Model):
    """The first answer to a POST/PUT carrying an `Idempotency-Key`, replayed on retries for 24 hours."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.BinaryField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_unique_per_api_key")
        ]

    def __str__(self) -> str:
        return self.key


class Integration(models.Model):
    """A shop's connection to one partner. Credentials are encrypted at rest and never shown again."""

    class State(models.TextChoices):
        CONNECTED = "connected", "Connected"
        NEEDS_ATTENTION = "needs_attention", "Needs attention"
        DISCONNECTED = "disconnected", "Not connected"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="integrations")
    partner = models.CharField(max_length=32)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DISCONNECTED)
    credentials = EncryptedJSONField(blank=True, default=dict)
    # Non-secret settings (public key, shop domain, quiet hours, handles...).
    config = models.JSONField(default=dict, blank=True)
    events = models.JSONField(default=list, blank=True, help_text="Event types this integration receives.")
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["partner"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "partner"], name="one_integration_per_partner_per_shop")
        ]

    def __str__(self) -> str:
        return f"{self.partner} ({self.get_state_display()})"

    @classmethod
    def live(cls, partner: str, **config) -> "Integration | None":
        """The connected (or needing attention) integration of `partner` whose config matches, with
        its shop: how an inbound hook finds whom it is for. None when a looked-up value is blank."""
        if not all(str(value or "").strip() for value in config.values()):
            return None
        return (
            cls.objects.select_related("shop")
            .filter(
                partner=partner,
                state__in=(cls.State.CONNECTED, cls.State.NEEDS_ATTENTION),
                **{f"config__{name}": value for name, value in config.items()},
            )
            .first()
        )


class InboundMessage(models.Model):
    """An inbound partner request already acted on (dedupe: partners retry)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    partner = models.CharField(max_length=32)
    message_id = models.CharField(max_length=200)
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=500, blank=True)
    response_status = models.PositiveSmallIntegerField(default=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "partner", "message_id"], name="inbound_message_once")
        ]

    def __str__(self) -> str:
        return f"{self.partner}:{self.message_id}"
