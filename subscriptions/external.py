"""Hooks through which an app connected to an external store serves vendor API operations that
name the store's ids, without this app importing it (dependencies point one way)."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CustomerImporter:
    # shop -> whether the shop has a store to import from
    connected: Callable
    # (shop, store customer id) -> Customer. Raises DomainError for an id the store does not know.
    import_customer: Callable


_customer_importer: CustomerImporter | None = None


def register_customer_importer(importer: CustomerImporter) -> None:
    global _customer_importer
    _customer_importer = importer


def customer_importer() -> CustomerImporter | None:
    return _customer_importer
