"""Inbound calls from partners' servers (`/hooks/<partner>/`): plain Django views, each checking
the partner's signature before anything else, then handing the work to a service."""
