"""Wire shapes of the webhook endpoints API (Smartrr's "topic" + "url", or our "events" list)."""

from rest_framework import serializers

from webhooks.registry import event_types


class WebhookInput(serializers.Serializer):
    """`{"url": ..., "events": [...]}` or `{"url": ..., "topic": "<one event>"}`. Event types may be
    given as ours (`subscription.skipped`) or as the seed's webhook name (`Subscription skip`)."""

    url = serializers.CharField(max_length=2000, required=False)
    events = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=100
    )
    topic = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    enabled = serializers.BooleanField(required=False)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)

    def validate(self, attrs):
        if "events" in attrs and "topic" in attrs:
            raise serializers.ValidationError({"topic": ["Give either topic or events, not both."]})
        if self.context.get("creating"):
            if "url" not in attrs:
                raise serializers.ValidationError({"url": ["This field is required."]})
            if "events" not in attrs and "topic" not in attrs:
                raise serializers.ValidationError({"events": ["Give events (a list) or a topic."]})
        return attrs


class WebhookSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    topic = serializers.SerializerMethodField(help_text="The seed name of the first event (Smartrr's topic).")
    events = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()
    enabled = serializers.BooleanField()
    disabledReason = serializers.CharField(source="disabled_reason")
    createdDate = serializers.DateTimeField(source="created_at")
    updatedDate = serializers.DateTimeField(source="updated_at")

    def get_topic(self, obj) -> str | None:
        if not obj.events:
            return None
        known = event_types().get(obj.events[0])
        return (known.seed_name or known.type) if known else obj.events[0]


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        help_text="Signing secret (Standard Webhooks, whsec_...). Answered on creation only: store it."
    )


class WebhookRotatedSerializer(WebhookCreatedSerializer):
    previousSecretExpiresAt = serializers.DateTimeField(
        source="previous_secret_expires_at",
        help_text="Until then every webhook is also signed with the previous secret (two v1 signatures).",
    )


class WebhookListResponse(serializers.Serializer):
    data = WebhookSerializer(many=True)
