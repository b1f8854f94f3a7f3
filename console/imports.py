"""CSV import of subscriptions: validate every row without writing, show it, apply only on confirm.

Columns (header row required, any order; extra columns are ignored):
  email (required), first_name, last_name, plan_id (required), sku (required), quantity (default 1),
  next_billing_date (YYYY-MM-DD, after today; default one interval from today), external_id.
A customer is found by email in the shop, or created. Applying runs every row through
`customer_create` and `subscription_create` in one transaction: all rows are created or none.
"""

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from console.activity import record_staff_action
from console.models import SubscriptionImport
from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import Customer, Plan, Shop, Variant

REQUIRED = ("email", "plan_id", "sku")
KNOWN = (*REQUIRED, "first_name", "last_name", "quantity", "next_billing_date", "external_id")
MAX_ROWS = 10_000
MAX_BYTES = 5 * 1024 * 1024


@dataclass
class Row:
    number: int  # line number in the file (the header is line 1)
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    plan: Plan | None = None
    variant: Variant | None = None
    quantity: int = 1
    next_billing_date: dt.date | None = None
    new_customer: bool = False


def decode_upload(upload) -> str:
    """The uploaded file as text, or DomainError naming the `file` field."""
    if upload is None:
        raise DomainError("required", "Choose a CSV file to upload.", field="file")
    if upload.size > MAX_BYTES:
        raise DomainError("too_large", "The file is larger than 5 MB; split it.", field="file")
    raw = upload.read()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DomainError(
            "not_utf8", "The file is not UTF-8 text; save it as CSV UTF-8.", field="file"
        ) from exc


def parse(content: str) -> list[Row]:
    """Rows of the file; DomainError (field `file`) when the file itself is unusable."""
    reader = csv.DictReader(io.StringIO(content))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED if name not in headers]
    if missing:
        raise DomainError(
            "missing_columns", f"The header row lacks the column(s): {', '.join(missing)}.", field="file"
        )
    reader.fieldnames = headers
    rows = []
    for record in reader:
        if len(rows) >= MAX_ROWS:
            raise DomainError("too_many_rows", f"At most {MAX_ROWS:,} rows per file.", field="file")
        values = {k: (record.get(k) or "").strip() for k in KNOWN}
        if not any(values.values()):
            continue
        rows.append(Row(number=reader.line_num, values=values))
    if not rows:
        raise DomainError("empty", "The file has no rows under its header.", field="file")
    return rows


def validate(shop: Shop, rows: list[Row]) -> list[Row]:
    """Check every row against the shop's catalogue (reads only); errors go on each row."""
    today = shop.local_today()
    plans = {str(p.pk): p for p in Plan.objects.filter(shop=shop).select_related("program")}
    skus = {r.values["sku"] for r in rows}
    variants = {v.sku: v for v in Variant.objects.filter(shop=shop, sku__in=skus).select_related("product")}
    emails = {r.values["email"].lower() for r in rows}
    known = set(Customer.objects.filter(shop=shop, email__in=emails).values_list("email", flat=True))
    for row in rows:
        v = row.values
        try:
            validate_email(v["email"])
        except ValidationError:
            row.errors.append(f"email: '{v['email']}' is not an email address")
        row.new_customer = v["email"].lower() not in known
        row.plan = plans.get(v["plan_id"])
        if row.plan is None:
            row.errors.append(f"plan_id: no plan {v['plan_id'] or '(empty)'} in this shop")
        elif not (row.plan.active and row.plan.program.active):
            row.errors.append(f"plan_id: the plan {row.plan} is not offered any more")
        row.variant = variants.get(v["sku"])
        if row.variant is None:
            row.errors.append(f"sku: no product variant with SKU '{v['sku']}' in this shop")
        elif not row.variant.purchasable:
            row.errors.append(f"sku: {v['sku']} is not available to order")
        if v["quantity"]:
            try:
                row.quantity = int(v["quantity"])
            except ValueError:
                row.errors.append(f"quantity: '{v['quantity']}' is not a whole number")
            else:
                if not 1 <= row.quantity <= 1000:
                    row.errors.append("quantity: must be between 1 and 1000")
        if v["next_billing_date"]:
            try:
                row.next_billing_date = dt.date.fromisoformat(v["next_billing_date"])
            except ValueError:
                row.errors.append(f"next_billing_date: '{v['next_billing_date']}' is not a date (YYYY-MM-DD)")
            else:
                if row.next_billing_date <= today:
                    row.errors.append(f"next_billing_date: must be after today ({today.isoformat()})")
    return rows


def import_preview(*, upload: SubscriptionImport) -> list[Row]:
    return validate(upload.shop, parse(upload.content))


def import_upload(*, shop: Shop, user, upload) -> SubscriptionImport:
    """Store the file (nothing else is written) after checking that it is a readable CSV."""
    content = decode_upload(upload)
    parse(content)
    return SubscriptionImport.objects.create(
        shop=shop, created_by=user, file_name=getattr(upload, "name", "")[:255], content=content
    )


def import_apply(*, upload: SubscriptionImport, user) -> SubscriptionImport:
    """Create every row's subscription in one transaction, or none when any row is refused."""
    if upload.status != SubscriptionImport.Status.UPLOADED:
        raise DomainError("already_applied", "This import was already applied.")
    shop = upload.shop
    rows = import_preview(upload=upload)
    errors = [{"row": r.number, "errors": r.errors} for r in rows if r.errors]
    actor = Actor.admin(user)
    if not errors:
        try:
            with transaction.atomic():
                for row in rows:
                    try:
                        _create(shop, row, actor)
                    except DomainError as error:
                        name = f"{error.field}: " if error.field else ""
                        errors.append({"row": row.number, "errors": [name + error.message]})
                        raise
        except DomainError:
            pass
    if errors:
        upload.errors = errors
        upload.save(update_fields=["errors"])
        raise DomainError("invalid_rows", f"{len(errors)} row(s) have errors: nothing was imported.")
    upload.status = SubscriptionImport.Status.APPLIED
    upload.created_count = len(rows)
    upload.applied_at = timezone.now()
    upload.errors = []
    upload.save(update_fields=["status", "created_count", "applied_at", "errors"])
    record_staff_action(
        user=user,
        shop=shop,
        action="subscriptions_imported",
        description=f"Imported {len(rows)} subscription(s) from {upload.file_name or 'a CSV file'}",
        import_id=upload.pk,
    )
    return upload


def _create(shop: Shop, row: Row, actor: Actor) -> None:
    v = row.values
    customer = Customer.objects.filter(shop=shop, email=v["email"].lower()).first()
    if customer is None:
        customer = services.customer_create(
            shop=shop, email=v["email"], actor=actor, first_name=v["first_name"], last_name=v["last_name"]
        )
    services.subscription_create(
        customer=customer,
        plan=row.plan,
        lines=[(row.variant, row.quantity)],
        actor=actor,
        payment_method=customer.payment_methods.order_by("-created_at", "-id").first(),
        shipping_address=customer.addresses.order_by("-id").first(),
        next_billing_date=row.next_billing_date,
        external_id=v["external_id"][:64],
    )
