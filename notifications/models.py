"""Native customer notifications: the shop's switch and sender, its email templates (one per
notice, created from the shipped defaults), and the customers who unsubscribed from optional
notices. Every row belongs to a shop."""

from django.db import models

from subscriptions.models import Shop


class NotificationSettings(models.Model):
    """Whether the shop sends native emails at all, and from which address."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="notification_settings")
    email_enabled = models.BooleanField(
        "Send native emails",
        default=False,
        help_text="Email customers about their subscriptions from the platform itself "
        "(with or instead of Klaviyo).",
    )
    from_email = models.EmailField(blank=True, help_text="Sender address; empty: DEFAULT_FROM_EMAIL.")
    reply_to = models.EmailField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Email settings"
        verbose_name_plural = "Email settings"

    def __str__(self) -> str:
        return f"Email settings of {self.shop}"


class EmailTemplate(models.Model):
    """One notice's email for one shop. `key` is the event type, or `<event type>:recipient` for
    the copy that goes to someone else (the gift's recipient)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="email_templates")
    key = models.CharField("Notice", max_length=64)
    enabled = models.BooleanField("On", default=True)
    subject = models.CharField(max_length=255)
    html_body = models.TextField("HTML body")
    text_body = models.TextField("Plain-text body")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shop", "key"]
        constraints = [models.UniqueConstraint(fields=["shop", "key"], name="one_email_template_per_notice")]

    def __str__(self) -> str:
        from notifications.catalogue import NOTICES

        notice = NOTICES.get(self.key)
        return notice.label if notice else self.key


class Unsubscribe(models.Model):
    """A customer's email address that receives no optional notice from this shop any more
    (receipts and failed payments still go out)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["shop", "email"], name="one_unsubscribe_per_email")]

    def __str__(self) -> str:
        return self.email
