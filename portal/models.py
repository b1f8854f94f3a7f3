"""Portal data: the one-time sign-in links customers receive by email."""

from django.db import models

from subscriptions.models import Customer, Shop


class MagicLink(models.Model):
    """A single-use sign-in link. Only the sha256 of its token is stored, so a database leak
    gives nobody a way in."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="magic_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"sign-in link for {self.customer_id} ({'used' if self.used_at else 'unused'})"
