"""Recharge migration: connect, dry run, import, resume.

A run reads customers, payment methods, addresses and subscriptions page by page (in that order:
each refers only to kinds read before). Each page is one transaction that writes its records, their
`ExternalRecord` mappings, the run's counts and the cursor of the next page, so an interrupted run
carries on from the page it stopped at and a record already imported is found, never doubled.
Imported rows go through the subscription services that emit no event (no `subscription.created`,
no customer notification).
"""

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from integrations.models import Integration
from migration import mapping
from migration.adapters.recharge import RechargeClient, RechargeError
from migration.models import DONE, RESOURCES, ExternalRecord, MigrationIssue, MigrationRun
from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import Address, Customer, PaymentMethod, Shop
from subscriptions.services.customers import address_create, customer_create, payment_method_add
from subscriptions.services.imports import subscription_import

log = logging.getLogger(__name__)
PARTNER = "recharge"
SOURCE = "recharge"
ACTOR = Actor.integration("recharge")
Mode = MigrationRun.Mode
RunStatus = MigrationRun.Status


# ---------------------------------------------------------------- connection


def recharge_client(integration: Integration) -> RechargeClient:
    return RechargeClient(integration.credentials.get("api_key", ""))


def recharge_connect(*, shop: Shop, api_key: str) -> Integration:
    """Save the shop's Recharge API key (encrypted at rest) once Recharge accepts it."""
    api_key = (api_key or "").strip()
    if not api_key:
        raise DomainError("required", "Enter your Recharge API key.", field="api_key")
    try:
        RechargeClient(api_key).check_key()
    except RechargeError as exc:
        raise DomainError("recharge_refused", exc.message, field="api_key" if exc.field else None) from exc
    integration, _ = Integration.objects.get_or_create(shop=shop, partner=PARTNER)
    integration.credentials = {"api_key": api_key}
    integration.state = Integration.State.CONNECTED
    integration.connected_at = integration.last_success_at = timezone.now()
    integration.last_error = ""
    integration.save()
    return integration


def recharge_integration(shop: Shop) -> Integration | None:
    return Integration.objects.filter(shop=shop, partner=PARTNER, state=Integration.State.CONNECTED).first()


@transaction.atomic
def recharge_disconnect(*, shop: Shop) -> None:
    Integration.objects.filter(shop=shop, partner=PARTNER).update(
        state=Integration.State.DISCONNECTED, credentials=""
    )


# ---------------------------------------------------------------- runs


def _enqueue(run: MigrationRun) -> None:
    from migration.tasks import migration_run_task

    transaction.on_commit(lambda: migration_run_task.delay(run.pk))


@transaction.atomic
def migration_start(*, shop: Shop, mode: str) -> MigrationRun:
    """Queue a dry run or an import. One run at a time per shop; an import expects, for its
    progress bar, what the last finished dry run counted."""
    if recharge_integration(shop) is None:
        raise DomainError("not_connected", "Connect Recharge with an API key first.", field="api_key")
    if mode not in Mode.values:
        raise DomainError("invalid_mode", f"Unknown mode '{mode}'.", field="mode")
    Shop.objects.select_for_update().get(pk=shop.pk)  # one start at a time per shop
    busy = MigrationRun.objects.filter(shop=shop, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)).first()
    if busy is not None:
        hint = "it stalled: resume it" if busy.stalled else "wait for it to finish"
        raise DomainError("run_in_progress", f"{busy} is not finished; {hint}.")
    totals = {}
    last_dry = MigrationRun.objects.filter(shop=shop, mode=Mode.DRY_RUN, status=RunStatus.DONE).first()
    if mode == Mode.IMPORT and last_dry is not None:
        totals = {r: sum(last_dry.counts.get(r, {}).values()) for r in RESOURCES}
    run = MigrationRun.objects.create(shop=shop, source=SOURCE, mode=mode, totals=totals)
    _enqueue(run)
    return run


@transaction.atomic
def migration_resume(*, run: MigrationRun) -> MigrationRun:
    """Carry an interrupted run on from its checkpoint (a dry run starts over: it wrote nothing)."""
    run = MigrationRun.objects.select_for_update().get(pk=run.pk)
    if run.status != RunStatus.INTERRUPTED and not run.stalled:
        raise DomainError(
            "not_interrupted",
            f"{run} is {run.get_status_display().lower()}; only an interrupted or stalled run resumes.",
        )
    others = MigrationRun.objects.filter(
        shop_id=run.shop_id, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)
    )
    if others.exclude(pk=run.pk).exists():
        raise DomainError("run_in_progress", "Another run is still going; wait for it to finish.")
    run.status = RunStatus.QUEUED
    run.error = ""
    run.save(update_fields=["status", "error", "updated_at"])
    _enqueue(run)
    return run


@dataclass
class _Context:
    """What a run has mapped so far. A dry run writes nothing, so it remembers here which source
    records would have been imported; an import finds them in `ExternalRecord`."""

    run: MigrationRun
    planned: dict[str, set[str]] = field(default_factory=lambda: {r: set() for r in RESOURCES})
    emails: set[str] = field(default_factory=set)

    @property
    def dry(self) -> bool:
        return self.run.mode == Mode.DRY_RUN

    def mapped(self, resource: str, external_id) -> ExternalRecord | None:
        return ExternalRecord.objects.filter(
            shop_id=self.run.shop_id, source=SOURCE, resource=resource, external_id=str(external_id or "")
        ).first()

    def known(self, resource: str, external_id) -> bool:
        return (
            str(external_id or "") in self.planned[resource] or self.mapped(resource, external_id) is not None
        )

    def remember(self, resource: str, external_id: str, local_id: int, details: dict | None = None) -> None:
        self.planned[resource].add(external_id)
        if not self.dry:
            ExternalRecord.objects.create(
                shop_id=self.run.shop_id,
                source=SOURCE,
                resource=resource,
                external_id=external_id,
                local_id=local_id,
                details=details or {},
            )


def _require(ctx: _Context, resource: str, external_id, what: str) -> ExternalRecord | None:
    if not external_id:
        raise mapping.Unmappable(f"no {what}")
    if not ctx.known(resource, external_id):
        raise mapping.Unmappable(f"its {what} (Recharge id {external_id}) is not imported")
    return ctx.mapped(resource, external_id)


def _customer(ctx: _Context, record: dict) -> str:
    fields = mapping.customer_fields(record)
    shop = ctx.run.shop
    existing = Customer.objects.filter(shop=shop, email__iexact=fields["email"]).first()
    if ctx.dry:
        seen = fields["email"] in ctx.emails
        ctx.emails.add(fields["email"])
        ctx.remember("customers", mapping.external_id(record), 0)
        return "existing" if existing is not None or seen else "new"
    if existing is not None:  # the same person already bought here (or twice in Recharge): link
        ctx.remember("customers", mapping.external_id(record), existing.pk, {"linked_by_email": True})
        return "existing"
    customer = customer_create(shop=shop, actor=ACTOR, **fields)
    ctx.remember("customers", mapping.external_id(record), customer.pk)
    return "new"


def _payment_method(ctx: _Context, record: dict) -> str:
    fields = mapping.payment_method_fields(record)
    owner = _require(ctx, "customers", record.get("customer_id"), "customer")
    details = {"default": bool(record.get("default")), "customer_id": str(record.get("customer_id"))}
    if ctx.dry:
        ctx.remember("payment_methods", mapping.external_id(record), 0)
        return "new"
    customer = Customer.objects.select_related("shop").get(pk=owner.local_id)
    stripe_customer_id = fields.pop("stripe_customer_id")
    method = payment_method_add(customer=customer, actor=ACTOR, **fields)
    Customer.objects.filter(pk=customer.pk, stripe_customer_id="").update(
        stripe_customer_id=stripe_customer_id
    )
    ctx.remember("payment_methods", mapping.external_id(record), method.pk, details)
    return "new"


def _address(ctx: _Context, record: dict) -> str:
    fields = mapping.address_fields(record)
    owner = _require(ctx, "customers", record.get("customer_id"), "customer")
    details = {"payment_method_id": str(record.get("payment_method_id") or "")}
    if ctx.dry:
        ctx.remember("addresses", mapping.external_id(record), 0)
        return "new"
    customer = Customer.objects.select_related("shop").get(pk=owner.local_id)
    address = address_create(customer=customer, actor=ACTOR, **fields)
    ctx.remember("addresses", mapping.external_id(record), address.pk, details)
    return "new"


def _subscription_payment_method(ctx: _Context, address: ExternalRecord, customer: Customer):
    """The method Recharge charges the address with, else the customer's default (else latest)."""
    method_id = address.details.get("payment_method_id")
    if method_id:
        found = ctx.mapped("payment_methods", method_id)
        if found is not None:
            return PaymentMethod.objects.filter(pk=found.local_id, customer=customer).first()
    methods = ExternalRecord.objects.filter(
        shop_id=ctx.run.shop_id,
        source=SOURCE,
        resource="payment_methods",
        local_id__in=customer.payment_methods.values("pk"),
    ).order_by("-imported_at", "-pk")
    chosen = next((m for m in methods if m.details.get("default")), None) or methods.first()
    return PaymentMethod.objects.filter(pk=chosen.local_id).first() if chosen else None


def _subscription(ctx: _Context, record: dict) -> str:
    shop = ctx.run.shop
    owner = _require(ctx, "customers", record.get("customer_id"), "customer")
    address = _require(ctx, "addresses", record.get("address_id"), "address")
    fields = mapping.subscription_fields(shop, record)
    if ctx.dry:
        ctx.remember("subscriptions", mapping.external_id(record), 0)
        return "new"
    customer = Customer.objects.select_related("shop").get(pk=owner.local_id)
    subscription = subscription_import(
        customer=customer,
        plan=fields["plan"],
        lines=[(fields["variant"], fields["quantity"], fields["price"])],
        actor=ACTOR,
        status=fields["status"],
        next_billing_date=fields["next_billing_date"],
        payment_method=_subscription_payment_method(ctx, address, customer),
        shipping_address=Address.objects.filter(pk=address.local_id, customer=customer).first(),
        external_id=f"recharge:{mapping.external_id(record)}",
        created_at=fields["created_at"],
        cancelled_at=fields["cancelled_at"],
        cancel_reason=fields["cancel_reason"],
        source="Recharge",
    )
    ctx.remember(
        "subscriptions",
        mapping.external_id(record),
        subscription.pk,
        {k: fields[k] for k in ("prepaid", "charge_interval_frequency", "order_interval_frequency")},
    )
    return "new"


HANDLERS = {
    "customers": _customer,
    "payment_methods": _payment_method,
    "addresses": _address,
    "subscriptions": _subscription,
}


def _process(ctx: _Context, resource: str, record: dict) -> str:
    """'new', 'existing' or 'unmappable' (with an issue row naming the reason)."""
    external_id = mapping.external_id(record)
    if ctx.mapped(resource, external_id) is not None:
        ctx.planned[resource].add(external_id)
        return "existing"
    try:
        with transaction.atomic():
            if not external_id:
                raise mapping.Unmappable("no id")
            return HANDLERS[resource](ctx, record)
    except (mapping.Unmappable, DomainError) as exc:
        reason = exc.reason if isinstance(exc, mapping.Unmappable) else exc.message
        MigrationIssue.objects.get_or_create(
            run=ctx.run,
            resource=resource,
            external_id=external_id or "?",
            defaults={"shop_id": ctx.run.shop_id, "reason": reason[:500]},
        )
        return "unmappable"


def migration_run_execute(*, run_id: int, client: RechargeClient | None = None) -> MigrationRun:
    """Do (or carry on with) one queued run. Interrupted by any Recharge failure that retries did
    not cure: the run keeps its checkpoint and can be resumed."""
    run = MigrationRun.objects.select_related("shop").get(pk=run_id)
    if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return run
    integration = recharge_integration(run.shop)
    if integration is None:
        return _interrupt(run, "Recharge is not connected any more; connect it and resume.")
    client = client or recharge_client(integration)
    if run.mode == Mode.DRY_RUN:  # it wrote nothing but its report: start it over
        run.checkpoint, run.counts = {}, {}
        run.issues.all().delete()
    run.status = RunStatus.RUNNING
    run.started_at = run.started_at or timezone.now()
    run.save(update_fields=["status", "started_at", "checkpoint", "counts", "updated_at"])
    ctx = _Context(run)
    try:
        for resource in RESOURCES:
            while run.checkpoint.get(resource) != DONE:
                page = client.list_page(resource, run.checkpoint.get(resource))
                with transaction.atomic():
                    counts = run.counts.setdefault(resource, {"new": 0, "existing": 0, "unmappable": 0})
                    for record in page.records:
                        counts[_process(ctx, resource, record)] += 1
                    run.checkpoint[resource] = page.next_cursor or DONE
                    run.save(update_fields=["checkpoint", "counts", "updated_at"])
    except RechargeError as exc:
        log.warning("Recharge migration run %s interrupted: %s", run.pk, exc.message)
        if exc.field == "api_key":
            Integration.objects.filter(pk=integration.pk).update(
                state=Integration.State.NEEDS_ATTENTION,
                last_error=exc.message[:500],
                last_error_at=timezone.now(),
            )
        return _interrupt(run, exc.message)
    except Exception as exc:  # a bug or a database failure: the page rolled back, the checkpoint holds
        log.exception("Recharge migration run %s failed", run.pk)
        return _interrupt(run, f"Unexpected error ({exc.__class__.__name__}); resume to carry on.")
    run.status = RunStatus.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    return run


def _interrupt(run: MigrationRun, message: str) -> MigrationRun:
    run.status = RunStatus.INTERRUPTED
    run.error = message[:500]
    run.save(update_fields=["status", "error"])
    return run
