"""Discount codes in the console: created through the services' rules, and imported from CSV with a
preview that writes nothing, row errors, and a confirmation."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from subscriptions.actors import SYSTEM
from subscriptions.errors import DomainError
from subscriptions.models import DiscountCode
from subscriptions.services.discount_import import discount_codes_import, discount_codes_preview
from tests import factories as f

pytestmark = pytest.mark.django_db
IMPORT = "admin:subscriptions_discountcode_import"

CSV = """code,kind,value,applies_to,duration,recurring_count,usage_limit,ends_at,active
lion10,percentage,10,subscription,first_payment,,,,yes
LION-FIVE,fixed,5,Both,recurring,3,100,2025-03-31,
bad code,percentage,10,,,,,,
TOOMUCH,percentage,150,,,,,,
NOCOUNT,fixed,2,,recurring,,,,
WHEN,fixed,2,,,,,31/03/2025,
lion10,fixed,1,,,,,,
TAKEN,fixed,1,one-time,all,,,,no
"""


@pytest.fixture
def staff_client(client, shop):
    client.force_login(f.StaffMembershipFactory(shop=shop, user__username="alice").user)
    return client


def test_preview_checks_every_row_and_writes_nothing(shop):
    f.DiscountCodeFactory(shop=shop, code="TAKEN")
    f.DiscountCodeFactory(shop=f.ShopFactory(), code="LION10")  # another shop's code is no clash
    rows = discount_codes_preview(shop=shop, text=CSV)
    assert [(r.line, r.errors) for r in rows] == [
        (2, {}),
        (3, {}),
        (4, {"code": "A discount code cannot contain spaces."}),
        (5, {"value": "A percentage discount cannot exceed 100."}),
        (6, {"recurring_count": "Say for how many recurring payments the code lasts."}),
        (7, {"ends_at": "Give a date as YYYY-MM-DD (or an ISO date-time)."}),
        (8, {"code": "The code LION10 is also on line 2."}),
        (9, {"code": "The code TAKEN already exists."}),
    ]
    assert rows[1].fields["applies_to"] == "both" and rows[1].fields["recurring_count"] == 3
    # Valid through the last day, in the shop's timezone.
    assert rows[1].fields["ends_at"] == dt.datetime(2025, 4, 1, tzinfo=shop.tz)
    assert DiscountCode.objects.filter(shop=shop).count() == 1


def test_import_creates_the_valid_rows_only(shop):
    created, left_out = discount_codes_import(shop=shop, actor=SYSTEM, text=CSV)
    assert sorted(c.code for c in created) == ["LION-FIVE", "LION10", "TAKEN"]
    assert [r.line for r in left_out] == [4, 5, 6, 7, 8]
    five = DiscountCode.objects.get(shop=shop, code="LION-FIVE")
    assert (five.kind, five.value, five.duration, five.recurring_count, five.usage_limit) == (
        "fixed",
        Decimal("5.00"),
        "recurring",
        3,
        100,
    )
    taken = DiscountCode.objects.get(shop=shop, code="TAKEN")
    assert taken.applies_to == "one_time" and taken.active is False


@pytest.mark.parametrize(
    "text,message",
    [
        ("kind,value\npercentage,10\n", "needs the column(s) code"),
        ("code,value,colour\nA,1,red\n", "Unknown column(s): colour"),
        ("code,value\n", "no codes"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused(shop, text, message):
    with pytest.raises(DomainError) as refused:
        discount_codes_preview(shop=shop, text=text)
    assert message in refused.value.message and refused.value.field == "file"


def test_console_preview_then_confirm(staff_client, shop):
    page = staff_client.get(reverse("admin:subscriptions_discountcode_changelist")).content.decode()
    assert reverse(IMPORT) in page  # "Import from CSV"
    upload = SimpleUploadedFile("codes.csv", CSV.encode(), content_type="text/csv")
    preview = staff_client.post(reverse(IMPORT), {"file": upload})
    body = preview.content.decode()
    assert preview.status_code == 200
    assert "Preview: 3 code(s) to import, 5 row(s) with errors" in body
    assert "value: A percentage discount cannot exceed 100." in body
    assert not DiscountCode.objects.filter(shop=shop).exists()  # nothing until confirmed
    confirmed = staff_client.post(reverse(IMPORT), {"confirm": "1", "csv_text": preview.context["csv_text"]})
    assert confirmed.status_code == 302
    assert DiscountCode.objects.filter(shop=shop).count() == 3


def test_console_refuses_an_unreadable_file_on_the_field(staff_client, shop):
    upload = SimpleUploadedFile("codes.csv", b"\xff\xfe\x00broken", content_type="text/csv")
    response = staff_client.post(reverse(IMPORT), {"file": upload})
    assert response.status_code == 400
    assert "not UTF-8" in response.context["upload"].errors["file"][0]


def test_console_create_follows_the_service_rules(staff_client, shop):
    url = reverse("admin:subscriptions_discountcode_add")
    base = {"code": "spring", "kind": "percentage", "value": "15", "applies_to": "both", "active": "on"}
    refused = staff_client.post(url, {**base, "duration": "recurring"})
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["recurring_count"] == [
        "Say for how many recurring payments the code lasts."
    ]
    f.DiscountCodeFactory(shop=shop, code="TAKEN")
    taken = staff_client.post(url, {**base, "code": "taken", "duration": "all"})
    assert taken.context["adminform"].form.errors["code"] == ["The code TAKEN already exists."]
    assert (
        staff_client.post(url, {**base, "duration": "recurring", "recurring_count": "3"}).status_code == 302
    )
    code = DiscountCode.objects.get(shop=shop, code="SPRING")
    assert code.recurring_count == 3
    # What a code gives is fixed once created; its limit and window can change.
    change = reverse("admin:subscriptions_discountcode_change", args=[code.pk])
    staff_client.post(change, {"active": "on", "usage_limit": "50", "value": "99"})
    code.refresh_from_db()
    assert (code.value, code.usage_limit) == (Decimal("15.00"), 50)


def test_another_shops_code_is_404_and_imports_land_in_the_staff_shop(staff_client, shop):
    theirs = f.DiscountCodeFactory(shop=f.ShopFactory(), code="THEIRS")
    assert (
        staff_client.get(reverse("admin:subscriptions_discountcode_change", args=[theirs.pk])).status_code
        == 404
    )
    upload = SimpleUploadedFile("codes.csv", b"code,value\nTHEIRS,10\n", content_type="text/csv")
    preview = staff_client.post(reverse(IMPORT), {"file": upload, "shop": theirs.shop_id})
    staff_client.post(reverse(IMPORT), {"confirm": "1", "csv_text": preview.context["csv_text"]})
    assert DiscountCode.objects.get(shop=shop, code="THEIRS")  # the staff user's own shop, not theirs
