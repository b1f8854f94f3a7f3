"""Shop scoping of the webhooks console pages.

`webhooks` imports no other app, so the shop is found by id, from the console user's `membership`
(set up by the subscriptions app) when there is one; a superuser sees every shop.
"""

from django.http import Http404

FULL_ACCESS_ROLES = frozenset({"owner"})


def membership(user):
    return getattr(user, "membership", None)


def shop_id_of(user) -> int | None:
    """The shop a console user works for; None for a superuser (all shops) or nobody."""
    found = membership(user)
    return found.shop_id if found is not None else None


class ShopScopedAdmin:
    """Rows of the user's shop only; another shop's row answers 404, never 403."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        user = request.user
        if user.is_superuser:
            return queryset
        found = membership(user)
        if found is None or not user.is_active or not user.is_staff:
            return queryset.none()
        return queryset.filter(shop_id=found.shop_id)

    def _granted(self, request, permitted: bool, obj=None) -> bool:
        user = request.user
        if user.is_superuser:
            return permitted
        found = membership(user)
        if found is None or not user.is_active or not user.is_staff:
            return False
        if obj is not None and obj.shop_id != found.shop_id:
            return False
        return permitted or found.role in FULL_ACCESS_ROLES

    def has_module_permission(self, request):
        return self._granted(request, super().has_module_permission(request))

    def has_view_permission(self, request, obj=None):
        return self._granted(request, super().has_view_permission(request, obj), obj)

    def has_add_permission(self, request, *args):
        return self._granted(request, super().has_add_permission(request, *args))

    def has_change_permission(self, request, obj=None):
        return self._granted(request, super().has_change_permission(request, obj), obj)

    def has_delete_permission(self, request, obj=None):
        return self._granted(request, super().has_delete_permission(request, obj), obj)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404(f"No {opts.verbose_name} with that id.")
