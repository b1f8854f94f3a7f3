"""`python manage.py setup_roles`: create or refresh the owner, staff and support groups and put
every console user in the group of their membership's role (idempotent)."""

from django.core.management.base import BaseCommand

from console.roles import GROUPS, roles_install, staff_set_role
from subscriptions.models import StaffMembership


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options) -> None:
        roles_install()
        synced = 0
        for membership in StaffMembership.objects.select_related("user", "shop"):
            if membership.role in GROUPS:
                staff_set_role(membership=membership, role=membership.role)
                synced += 1
            else:
                self.stderr.write(f"{membership}: unknown role '{membership.role}', left without a group")
        self.stdout.write(
            f"Roles ready: {', '.join(GROUPS.values())}; {synced} console user(s) in their group."
        )
