"""Vendor API: the shop's webhook endpoints (Smartrr's GET/POST /webhook, PUT/DELETE /webhook/{id}).

These views use DRF alone (webhooks imports no other app); authentication, the `webhooks`
permission and the problem-details error shape come from the DRF settings.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from webhooks import services
from webhooks.api.serializers import (
    WebhookCreatedSerializer,
    WebhookInput,
    WebhookListResponse,
    WebhookRotatedSerializer,
    WebhookSerializer,
)
from webhooks.errors import InvalidEndpoint
from webhooks.models import WebhookEndpoint


class WebhookView(GenericAPIView):
    resource = "webhooks"
    serializer_class = WebhookSerializer

    def shop_endpoints(self):
        return WebhookEndpoint.objects.filter(shop_id=self.request.auth.shop_id)

    def parse(self, *, creating: bool) -> dict:
        serializer = WebhookInput(data=self.request.data, context={"creating": creating})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "topic" in data:
            data["events"] = [data.pop("topic")]
            data["_events_field"] = "topic"
        return data

    def call(self, service, data: dict, **kwargs):
        events_field = data.pop("_events_field", "events")
        try:
            return service(**data, **kwargs)
        except InvalidEndpoint as exc:
            field = events_field if exc.field == "events" else exc.field
            raise ValidationError({field: [exc.message]}) from exc


class WebhookListView(WebhookView):
    @extend_schema(
        tags=["Webhooks"], summary="Get webhooks for current organization", responses=WebhookListResponse
    )
    def get(self, request):
        endpoints = self.shop_endpoints().order_by("created_at", "id")
        return Response({"data": WebhookSerializer(endpoints, many=True).data})

    @extend_schema(
        tags=["Webhooks"],
        summary="Create a new webhook",
        request=WebhookInput,
        responses={201: WebhookCreatedSerializer},
    )
    def post(self, request):
        data = self.parse(creating=True)
        endpoint = self.call(services.endpoint_create, data, shop_id=request.auth.shop_id)
        return Response(WebhookCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(WebhookView):
    @extend_schema(
        tags=["Webhooks"], summary="Edit existing webhook", request=WebhookInput, responses=WebhookSerializer
    )
    def put(self, request, webhook_id: int):
        endpoint = get_object_or_404(self.shop_endpoints(), pk=webhook_id)
        data = self.parse(creating=False)
        endpoint = self.call(services.endpoint_update, data, endpoint=endpoint)
        return Response(WebhookSerializer(endpoint).data)

    @extend_schema(tags=["Webhooks"], summary="Delete existing webhook", responses={204: None})
    def delete(self, request, webhook_id: int):
        endpoint = get_object_or_404(self.shop_endpoints(), pk=webhook_id)
        services.endpoint_delete(endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretView(WebhookView):
    @extend_schema(
        tags=["Webhooks"],
        summary="Rotate the signing secret of a webhook",
        description="A new secret signs every webhook from now on; for 24 hours the previous secret "
        "signs them too, so receivers can switch without losing a delivery.",
        request=None,
        responses=WebhookRotatedSerializer,
    )
    def post(self, request, webhook_id: int):
        endpoint = get_object_or_404(self.shop_endpoints(), pk=webhook_id)
        endpoint = services.endpoint_rotate_secret(endpoint=endpoint)
        return Response(WebhookRotatedSerializer(endpoint).data)
