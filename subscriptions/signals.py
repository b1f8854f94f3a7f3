"""Signals of the subscriptions app. Only for set-up, never for business rules (those are services).

`demo_shop_seeded(shop)`: `manage.py seed_demo` finished loading the demo shop; apps that need
demo settings of their own (native notifications turned on...) add them without this app
importing them.
"""

from django.dispatch import Signal

demo_shop_seeded = Signal()
