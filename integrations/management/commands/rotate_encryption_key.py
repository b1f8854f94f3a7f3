from django.core.management.base import BaseCommand
from django.db import connection, transaction

from integrations.crypto import rotate
from integrations.models import Integration


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored credential with the newest key in FIELD_ENCRYPTION_KEYS. "
        "Put the new key first (keep the old one after it), run this, then remove the old key."
    )

    def handle(self, *args, **options):
        table = connection.ops.quote_name(Integration._meta.db_table)
        column = connection.ops.quote_name(Integration._meta.get_field("credentials").column)
        rotated = 0
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT id, {column} FROM {table} WHERE {column} <> ''")  # noqa: S608 - names are quoted model metadata
            for pk, token in cursor.fetchall():
                cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [rotate(token), pk])  # noqa: S608
                rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} credential set(s) with the newest key.")
