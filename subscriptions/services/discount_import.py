"""Discount codes from a CSV file (codes made in LoyaltyLion or elsewhere, many at once).

Two steps: `discount_codes_preview` reads the file and checks every row exactly as creating the
code would, writing nothing; `discount_codes_import` (after the merchant confirms) creates the
rows that are valid, in one transaction, and leaves out the rows with errors.

Columns (header row, any order, case-insensitive): `code` and `value` are required; `kind`
(percentage | fixed, default percentage), `applies_to` (one_time | subscription | both, default
both), `duration` (first_payment | recurring | all, default all), `recurring_count` (with
recurring), `usage_limit`, `starts_at`, `ends_at` (YYYY-MM-DD in the shop's timezone, or an ISO
date-time; a code ending on a date is valid through that day) and `active` (yes/no, default yes).
"""

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.dateparse import parse_date, parse_datetime

from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import DiscountCode, Shop
from subscriptions.services.discounts import discount_code_create, discount_code_validate

COLUMNS = (
    "code",
    "kind",
    "value",
    "applies_to",
    "duration",
    "recurring_count",
    "usage_limit",
    "starts_at",
    "ends_at",
    "active",
)
REQUIRED_COLUMNS = ("code", "value")
MAX_ROWS = 5000
MAX_BYTES = 1_000_000
TRUE = {"", "1", "yes", "y", "true", "active", "on"}
FALSE = {"0", "no", "n", "false", "inactive", "off"}


def _choices(choices) -> dict[str, str]:
    """Values and labels, spelled loosely ("One-time purchases", "one_time", "ONE TIME")."""
    found = {}
    for value, label in choices:
        for spelling in (value, label):
            found[spelling.lower().replace("-", "_").replace(" ", "_")] = value
    return found


CHOICES = {
    "kind": {**_choices(DiscountCode.Kind.choices), "percent": "percentage", "%": "percentage"},
    "applies_to": {**_choices(DiscountCode.AppliesTo.choices), "one_time": "one_time"},
    "duration": {**_choices(DiscountCode.Duration.choices), "first": "first_payment"},
}


@dataclass
class CodeRow:
    line: int
    values: dict[str, str]
    fields: dict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors


def _read(text: str) -> list[dict[str, str]]:
    if len(text.encode()) > MAX_BYTES:
        raise DomainError("file_too_large", "The file is larger than 1 MB; split it.", field="file")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    headers = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in headers]
    if missing:
        raise DomainError(
            "missing_columns",
            f"The header row needs the column(s) {', '.join(missing)}; known columns: {', '.join(COLUMNS)}.",
            field="file",
        )
    unknown = [h for h in headers if h and h not in COLUMNS]
    if unknown:
        raise DomainError("unknown_columns", f"Unknown column(s): {', '.join(unknown)}.", field="file")
    reader.fieldnames = headers
    rows = []
    for raw in reader:
        if len(rows) >= MAX_ROWS:
            raise DomainError("too_many_rows", f"At most {MAX_ROWS} codes per file.", field="file")
        rows.append({k: (v or "").strip() for k, v in raw.items() if k})
    if not rows:
        raise DomainError("empty_file", "The file has a header row but no codes.", field="file")
    return rows


def _moment(shop: Shop, text: str, *, end: bool) -> dt.datetime | None:
    if not text:
        return None
    try:
        day = parse_date(text)
        moment = None if day else parse_datetime(text)
    except ValueError:  # well formed but impossible (2025-02-30)
        day = moment = None
    if moment is not None:
        return moment if moment.tzinfo else moment.replace(tzinfo=shop.tz)
    if day is None:
        raise ValueError("Give a date as YYYY-MM-DD (or an ISO date-time).")
    if end:  # valid through that whole day
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time.min, tzinfo=shop.tz)


def _whole(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ValueError("Give a whole number of at least 1.")
    return int(text)


def _parse(shop: Shop, values: dict[str, str]) -> tuple[dict, dict[str, str]]:
    fields: dict = {"code": values.get("code", ""), "value": values.get("value", "")}
    errors: dict[str, str] = {}
    for name, default in (("kind", "percentage"), ("applies_to", "both"), ("duration", "all")):
        given = values.get(name, "")
        chosen = CHOICES[name].get(given.lower().replace("-", "_").replace(" ", "_")) if given else default
        if chosen is None:
            errors[name] = f"'{given}' is not one of {', '.join(sorted(set(CHOICES[name].values())))}."
        fields[name] = chosen
    for name, parse in (
        ("recurring_count", _whole),
        ("usage_limit", _whole),
        ("starts_at", lambda t: _moment(shop, t, end=False)),
        ("ends_at", lambda t: _moment(shop, t, end=True)),
    ):
        try:
            fields[name] = parse(values.get(name, ""))
        except ValueError as exc:
            errors[name] = str(exc)
    active = values.get("active", "").lower()
    if active not in TRUE | FALSE:
        errors["active"] = "Say yes or no."
    fields["active"] = active in TRUE
    return fields, errors


def discount_codes_preview(*, shop: Shop, text: str) -> list[CodeRow]:
    """Every row of the file, checked as creating it would check it; nothing is written. A file
    that cannot be read at all raises a DomainError on `file`."""
    rows: list[CodeRow] = []
    first_line: dict[str, int] = {}
    for number, values in enumerate(_read(text), start=2):  # line 1 is the header
        fields, errors = _parse(shop, values)
        row = CodeRow(line=number, values={c: values.get(c, "") for c in COLUMNS}, errors=errors)
        if not errors:
            try:
                row.fields = discount_code_validate(shop=shop, **fields)
            except DomainError as exc:
                row.errors[exc.field or "code"] = exc.message
        code = (values.get("code") or "").strip().upper()
        if code and code in first_line and "code" not in row.errors:
            row.errors["code"] = f"The code {code} is also on line {first_line[code]}."
        first_line.setdefault(code, number)
        rows.append(row)
    return rows


@transaction.atomic
def discount_codes_import(*, shop: Shop, actor: Actor, text: str) -> tuple[list[DiscountCode], list[CodeRow]]:
    """Create the file's valid codes (checked again now: a code made since the preview is left
    out with its error). Returns (the codes created, the rows left out)."""
    created, left_out = [], []
    for row in discount_codes_preview(shop=shop, text=text):
        if not row.valid:
            left_out.append(row)
            continue
        try:
            with transaction.atomic():
                created.append(discount_code_create(shop=shop, actor=actor, **row.fields))
        except DomainError as exc:
            row.errors[exc.field or "code"] = exc.message
            left_out.append(row)
    return created, left_out
