"""Partner credentials are encrypted at rest and survive a key rotation."""

from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from integrations.models import Integration
from tests import factories as f


def _raw(integration):
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM integrations_integration WHERE id = %s", [integration.pk])
        return cursor.fetchone()[0]


def test_credentials_are_not_stored_in_clear(db):
    integration = Integration.objects.create(
        shop=f.ShopFactory(), partner="klaviyo", credentials={"private_key": "pk_secret123"}
    )
    raw = _raw(integration)
    assert "pk_secret123" not in raw
    assert Integration.objects.get(pk=integration.pk).credentials == {"private_key": "pk_secret123"}


def test_rotation_reencrypts_with_the_new_key_and_the_old_key_can_go(db, settings):
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    integration = Integration.objects.create(
        shop=f.ShopFactory(), partner="klaviyo", credentials={"private_key": "pk_x"}
    )
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_encryption_key")
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert Integration.objects.get(pk=integration.pk).credentials == {"private_key": "pk_x"}
    assert Fernet(new.encode()).decrypt(_raw(integration).encode())
