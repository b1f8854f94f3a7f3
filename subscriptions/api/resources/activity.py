"""/vendor/v1/activity: the shop's activity log (who did what to which subscription or customer)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.mixins import ListModelMixin

from subscriptions.api.resources.base import ResourceView, ordering_parameter, problems
from subscriptions.api.resources.filters import ActivityFilter
from subscriptions.models import ActivityLog

ORDERING = ("created_at",)


class ActivityOut(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(help_text="customer, admin, api, integration:<name> or system.")
    actor_type = serializers.ChoiceField(choices=ActivityLog.ActorType.choices)
    actor_name = serializers.CharField()
    action = serializers.CharField()
    description = serializers.CharField()
    details = serializers.DictField()
    customer_id = serializers.IntegerField(allow_null=True)
    subscription_id = serializers.IntegerField(allow_null=True)


@extend_schema(tags=["Activity"])
class ActivityListView(ListModelMixin, ResourceView):
    resource = "subscriptions"
    serializer_class = ActivityOut
    filterset_class = ActivityFilter
    ordering_fields = ORDERING
    default_ordering = "-created_at"

    def get_queryset(self):
        return ActivityLog.objects.filter(shop=self.shop)

    @extend_schema(
        summary="List activity",
        parameters=[ordering_parameter(ORDERING, "-created_at")],
        responses={200: ActivityOut(many=True), **problems(400)},
    )
    def get(self, request):
        return self.list(request)
