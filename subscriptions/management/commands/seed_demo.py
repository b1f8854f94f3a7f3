"""Load a believable demo: "Demo Coffee Co." with its catalogue, plans, discount codes, customers,
subscriptions in every state and their order history, plus a small "Other Shop" to show tenancy,
and the console logins (printed at the end).

This is seeding, not business actions: rows are written directly with `bulk_create` (batches of
customers, one transaction per batch), not through the services, so no domain events are emitted
and nothing is delivered. Everything is generated from a seeded `random.Random`, so the same
`--seed` gives the same data. Idempotent: when the demo shop already has customers the data is
left alone; the users and the "Shop staff" group (and its permissions, recomputed from the
installed apps' models) are ensured on every run.

Volume: each customer has three subscriptions on average; each subscription keeps at most three
past orders (its `order_count` matches its paid orders) so 100,000 customers load in minutes.
"""

import datetime as dt
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal
from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone

from subscriptions.models import (
    ActivityLog,
    Address,
    Customer,
    DiscountCode,
    Gift,
    IntervalUnit,
    Order,
    OrderLine,
    PaymentMethod,
    Plan,
    Product,
    Shop,
    SkippedDate,
    StaffMembership,
    Subscription,
    SubscriptionDiscount,
    SubscriptionLine,
    SubscriptionProgram,
    Variant,
    add_interval,
)
from subscriptions.signals import demo_shop_seeded

DEMO_PASSWORD = "demo"
OTHER_SHOP_DOMAIN = "other-shop.example"
BATCH_CUSTOMERS = 2000  # about 6,000 subscriptions and their rows per transaction
CENT = Decimal("0.01")

Status = Subscription.Status

FIRST_NAMES = (
    "Olivia Liam Emma Noah Ava Elijah Sophia James Isabella Lucas Mia Mateo Amelia Levi Harper Ethan "
    "Evelyn Henry Abigail Jack Emily Owen Ella Daniel Scarlett Sebastian Grace Aiden Chloe Samuel Nora "
    "Wyatt Lily Leo Hazel Julian Zoe Hudson Riley Ezra Aria Gabriel Layla Maya Omar Priya Kenji Fatima"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
    "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Patel Kim Chen Okafor"
).split()
STREETS = (
    "Maple Ave|Oak St|Pine St|Cedar Ln|Elm St|Washington Ave|Lake Dr|Hillside Rd|Park Pl|Main St|"
    "Sunset Blvd|Church St|Highland Ave|River Rd|Chestnut St|Willow Way"
).split("|")
CITIES = [
    ("New York", "NY", "100"),
    ("Brooklyn", "NY", "112"),
    ("Boston", "MA", "021"),
    ("Philadelphia", "PA", "191"),
    ("Chicago", "IL", "606"),
    ("Austin", "TX", "787"),
    ("Seattle", "WA", "981"),
    ("Portland", "OR", "972"),
    ("Denver", "CO", "802"),
    ("Atlanta", "GA", "303"),
    ("Miami", "FL", "331"),
    ("San Diego", "CA", "921"),
    ("Minneapolis", "MN", "554"),
    ("Nashville", "TN", "372"),
]
CARD_BRANDS = ("Visa", "Visa", "Visa", "Mastercard", "Mastercard", "American Express", "Discover")
CANCEL_REASONS = (
    "Too much coffee piling up",
    "Too expensive",
    "Moving to a new address",
    "Trying a different roaster",
    "Only wanted to try it",
    "Delivery took too long",
)

# (title, description, [(variant title, sku, price)], program key)
CATALOGUE = [
    ("House Blend", "Chocolate, toasted nuts, a round body.", "coffee", "HOUSE"),
    ("Ethiopia Yirgacheffe", "Bergamot, jasmine and lemon.", "coffee", "ETH"),
    ("Colombia Huila", "Red apple, caramel, panela.", "coffee", "COL"),
    ("Sumatra Mandheling", "Earthy, cedar, dark chocolate.", "coffee", "SUM"),
    ("Decaf Swiss Water", "Milk chocolate and plum, without the caffeine.", "coffee", "DECAF"),
    ("Espresso Roast", "Dense and syrupy, built for milk drinks.", "coffee", "ESP"),
    ("Earl Grey Supreme", "Black tea with bergamot and cornflower.", "tea", "EARL"),
    ("Sencha Green", "Grassy, bright Japanese green tea.", "tea", "SENCHA"),
    ("Chamomile Dream", "Caffeine-free chamomile and lavender.", "tea", "CHAM"),
    ("Masala Chai", "Assam with cardamom, ginger and clove.", "tea", "CHAI"),
    ("Paper Filters (100)", "Unbleached cone filters.", "extra", "FILTER"),
    ("Ceramic Mug", "12 oz stoneware mug with the Demo Coffee Co. logo.", "extra", "MUG"),
]
COFFEE_VARIANTS = [
    ("12 oz / Whole bean", "12-WB", Decimal("16.00")),
    ("12 oz / Ground", "12-GR", Decimal("16.00")),
    ("2 lb / Whole bean", "2LB-WB", Decimal("38.00")),
]
TEA_VARIANTS = [("50 g tin", "50G", Decimal("12.50")), ("20 sachets", "SACH", Decimal("9.00"))]
EXTRA_PRICES = {"FILTER": Decimal("6.00"), "MUG": Decimal("18.00")}


def _with_defaults(model: type[models.Model], field_names: list[str], rows: list[tuple]):
    """Add the model's NOT NULL fields the caller did not list, with their defaults, so a field
    added to a model later cannot break the seed."""
    extra_names, extra_values = [], []
    for model_field in model._meta.concrete_fields:
        name = model_field.name
        if (
            model_field.primary_key
            or name in field_names
            or model_field.attname in field_names
            or model_field.null
        ):
            continue
        if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            value = timezone.now()
        else:
            value = model_field.get_default()  # "" for text fields without a default
            if value is None:
                continue
        extra_names.append(name)
        extra_values.append(value)
    if not extra_names:
        return field_names, rows
    extra = tuple(extra_values)
    return field_names + extra_names, [tuple(row) + extra for row in rows]


def insert_rows(model: type[models.Model], field_names: list[str], rows: list[tuple]) -> None:
    """INSERT plain tuples into `model`'s table, in the order of `field_names`.

    For rows the seed never needs back as objects: at this volume building model instances and
    bulk_create's per-value preparation cost several times the database work. Values are what the
    driver takes (ids for foreign keys); aware datetimes and JSON are adapted here.
    """
    if not rows:
        return
    field_names, rows = _with_defaults(model, list(field_names), rows)
    fields = [model._meta.get_field(name) for name in field_names]
    ops, qn = connection.ops, connection.ops.quote_name
    adapters = []
    for i, f in enumerate(fields):
        if isinstance(f, models.DateTimeField):
            adapters.append((i, ops.adapt_datetimefield_value))
        elif isinstance(f, models.JSONField):
            adapters.append((i, lambda value: ops.adapt_json_value(value, None)))
    if adapters:
        converted = []
        for row in rows:
            row = list(row)
            for i, adapt in adapters:
                row[i] = adapt(row[i])
            converted.append(row)
        rows = converted
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        qn(model._meta.db_table),
        ", ".join(qn(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 10_000):
            cursor.executemany(sql, rows[start : start + 10_000])


def insert_objects(objs: list[models.Model], *, key: str) -> None:
    """Insert unsaved instances with `insert_rows`, then give them their ids, looked up by `key`
    (unique among the shop's rows of this kind). Foreign keys are read from the related instances,
    which must have been inserted first."""
    if not objs:
        return
    model = type(objs[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    rows = []
    for obj in objs:
        row = []
        for f in fields:
            if f.is_relation:
                related = f.get_cached_value(obj, None)
                value = related.pk if related is not None else getattr(obj, f.attname)
            else:
                value = getattr(obj, f.attname)
                if value is None and (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)):
                    value = now
                    setattr(obj, f.attname, now)
            row.append(value)
        rows.append(row)
    insert_rows(model, [f.attname for f in fields], rows)
    key_index = [f.attname for f in fields].index(key)
    keys = [row[key_index] for row in rows]
    shop_id = rows[0][[f.attname for f in fields].index("shop_id")]
    ids: dict = {}
    for start in range(0, len(keys), 5_000):
        lookup = {"shop_id": shop_id, f"{key}__in": keys[start : start + 5_000]}
        ids.update(model.objects.filter(**lookup).values_list(key, "pk"))
    for obj, k in zip(objs, keys, strict=True):
        obj.pk = ids[k]
        obj._state.adding = False


@dataclass
class Catalogue:
    """What a demo shop sells, kept in memory so the bulk loop needs no queries."""

    shop: Shop
    plans: list[Plan] = field(default_factory=list)
    plan_weights: list[int] = field(default_factory=list)
    variants_by_program: dict[int, list[Variant]] = field(default_factory=dict)
    loyal_code: DiscountCode | None = None
    titles: dict[int, str] = field(default_factory=dict)  # variant id -> order line title


@dataclass
class Counts:
    customers: int = 0
    subscriptions: int = 0
    orders: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: {s: 0 for s in Status.values})


class Command(BaseCommand):
    help = "Load a demo shop with customers, subscriptions and order history, and the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=200, help="Customers of the demo shop.")
        parser.add_argument("--shop-domain", default="demo-shop.example", help="Domain of the demo shop.")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (same seed, same data).")

    def handle(self, *args, customers: int, shop_domain: str, seed: int, **options) -> None:
        started = time.monotonic()
        rng = random.Random(seed)
        shop, created = Shop.objects.get_or_create(
            domain=shop_domain,
            defaults={
                "name": "Demo Coffee Co.",
                "currency": "USD",
                "timezone": "America/New_York",
                "billing_time": dt.time(9, 0),
            },
        )
        if not created and shop.customers.exists():
            self.stdout.write(f"{shop.name} ({shop.domain}) already has customers: demo data left as it is.")
        else:
            catalogue = self._demo_catalogue(shop)
            counts = self._load_customers(catalogue, customers, rng, email_domain="example.com")
            self._add_gift(shop, rng)
            self._ensure_upcoming_order(shop)
            self.stdout.write(
                f"{shop.name}: {counts.customers} customers, {counts.subscriptions} subscriptions "
                f"({', '.join(f'{n} {s}' for s, n in counts.by_status.items())}), {counts.orders} orders."
            )

        other, created = Shop.objects.get_or_create(
            domain=OTHER_SHOP_DOMAIN,
            defaults={"name": "Other Shop", "currency": "EUR", "timezone": "Europe/Berlin"},
        )
        if created or not other.customers.exists():
            catalogue = self._other_catalogue(other)
            counts = self._load_customers(catalogue, 5, random.Random(seed + 1), email_domain="example.org")
            self.stdout.write(
                f"{other.name}: {counts.customers} customers, {counts.subscriptions} subscriptions."
            )

        logins = self._ensure_logins(shop, other)
        for _, said in demo_shop_seeded.send(sender=self.__class__, shop=shop):
            if said:
                self.stdout.write(str(said))
        self.stdout.write(self.style.SUCCESS(f"Demo data ready in {time.monotonic() - started:.1f}s."))
        self.stdout.write("Console logins (/admin/):")
        for who, username, password in logins:
            self.stdout.write(f"  {who:<28} {username} / {password}")

    def _ensure_upcoming_order(self, shop: Shop) -> None:
        """At least one demo order falls inside the upcoming-order notice window, so the first
        notices tick of `make run` has something to announce (the development outbox shows it)."""
        today = shop.local_today()
        window = {"next_billing_date__gt": today, "next_billing_date__lte": today + dt.timedelta(days=2)}
        active = shop.subscriptions.filter(status=Status.ACTIVE)
        if active.filter(**window).exists():
            return
        sub = active.filter(skips__isnull=True, gifts__isnull=True).order_by("pk").first()
        if sub is not None:
            date = today + dt.timedelta(days=2)
            active.filter(pk=sub.pk).update(next_billing_date=date, anchor_day=date.day)

    # ------------------------------------------------------------------ logins

    def _ensure_logins(self, shop: Shop, other: Shop) -> list[tuple[str, str, str]]:
        User = get_user_model()
        admin, created = User.objects.get_or_create(
            username="admin", defaults={"email": "admin@example.com", "is_staff": True, "is_superuser": True}
        )
        if created:
            admin.set_password("admin")
            admin.save(update_fields=["password"])

        logins = [("superuser (every shop)", "admin", "admin")]
        people = [(shop, "staff", "owner", "owner"), (other, "staff", "owner", "owner")]
        people.append((shop, "support", "support", "read-only support"))
        for s, who, role, label in people:
            username = f"{who}@{s.domain}"
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": username, "is_staff": True}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            StaffMembership.objects.get_or_create(user=user, defaults={"shop": s, "role": role})
            logins.append((f"{label} of {s.name}", username, DEMO_PASSWORD))
        # The console's role groups (owner, staff, read-only support), when the console app is there.
        if "setup_roles" in get_commands():
            call_command("setup_roles", stdout=StringIO())
        return logins

    # ------------------------------------------------------------------ catalogue

    def _demo_catalogue(self, shop: Shop) -> Catalogue:
        cat = Catalogue(shop=shop)
        programs = {
            "coffee": SubscriptionProgram.objects.create(
                shop=shop, name="Coffee Club", description="Freshly roasted beans at the pace you drink them."
            ),
            "tea": SubscriptionProgram.objects.create(
                shop=shop, name="Tea of the Month", description="A tin of loose-leaf tea every month."
            ),
            "prepaid": SubscriptionProgram.objects.create(
                shop=shop, name="Prepaid Coffee", description="Six months of coffee, paid month by month."
            ),
        }
        products_by_kind: dict[str, list[Product]] = {"coffee": [], "tea": [], "extra": []}
        variants_by_kind: dict[str, list[Variant]] = {"coffee": [], "tea": [], "extra": []}
        for number, (title, description, kind, code) in enumerate(CATALOGUE):
            product = Product.objects.create(
                shop=shop, title=title, description=description, external_id=str(7_300_000_000 + number)
            )
            products_by_kind[kind].append(product)
            if kind == "coffee":
                rows = COFFEE_VARIANTS
            elif kind == "tea":
                rows = TEA_VARIANTS
            else:
                rows = [("Default", "STD", EXTRA_PRICES[code])]
            for vtitle, suffix, price in rows:
                variant = Variant.objects.create(
                    shop=shop,
                    product=product,
                    title=vtitle,
                    sku=f"{kind[:3].upper()}-{code}-{suffix}",
                    price=price,
                    inventory=None if kind != "extra" else 500,
                )
                variants_by_kind[kind].append(variant)
        # One coffee sold out, to make "product unavailable" visible in the console.
        Variant.objects.filter(shop=shop, sku="COF-SUM-2LB-WB").update(available=False)
        programs["coffee"].products.set(products_by_kind["coffee"] + products_by_kind["extra"])
        programs["tea"].products.set(products_by_kind["tea"])
        programs["prepaid"].products.set(products_by_kind["coffee"])

        ten = {"discount_type": Plan.DiscountType.PERCENTAGE, "discount_value": Decimal("10")}
        plan_specs = [
            ("coffee", "Every month (10% off)", IntervalUnit.MONTH, 1, ten, {}, 45),
            ("coffee", "Every 2 weeks (10% off)", IntervalUnit.WEEK, 2, ten, {}, 20),
            ("coffee", "Every 2 months (10% off)", IntervalUnit.MONTH, 2, ten, {}, 10),
            (
                "tea",
                "Monthly",
                IntervalUnit.MONTH,
                1,
                {"discount_type": Plan.DiscountType.PERCENTAGE, "discount_value": Decimal("5")},
                {},
                17,
            ),
            (
                "prepaid",
                "6 months prepaid",
                IntervalUnit.MONTH,
                1,
                {"discount_type": Plan.DiscountType.FIXED, "discount_value": Decimal("2.00")},
                {"min_cycles": 6, "max_cycles": 6},
                8,
            ),
        ]
        for key, name, unit, count, discount, cycles, weight in plan_specs:
            plan = Plan.objects.create(
                shop=shop,
                program=programs[key],
                name=name,
                interval_unit=unit,
                interval_count=count,
                **discount,
                **cycles,
            )
            cat.plans.append(plan)
            cat.plan_weights.append(weight)
            purchasable = [
                v
                for v in variants_by_kind["coffee" if key == "prepaid" else key]
                if v.available and not v.archived
            ]
            cat.variants_by_program[programs[key].pk] = purchasable
        # Accessories ride along in Coffee Club boxes.
        cat.variants_by_program[programs["coffee"].pk] += variants_by_kind["extra"]

        now = timezone.now()
        codes = DiscountCode.objects.bulk_create(
            [
                DiscountCode(
                    shop=shop,
                    code="WELCOME10",
                    kind=DiscountCode.Kind.PERCENTAGE,
                    value=Decimal("10"),
                    applies_to=DiscountCode.AppliesTo.BOTH,
                    duration=DiscountCode.Duration.FIRST_PAYMENT,
                ),
                DiscountCode(
                    shop=shop,
                    code="LOYAL5",
                    kind=DiscountCode.Kind.FIXED,
                    value=Decimal("5.00"),
                    applies_to=DiscountCode.AppliesTo.SUBSCRIPTION,
                    duration=DiscountCode.Duration.RECURRING,
                    recurring_count=3,
                ),
                DiscountCode(
                    shop=shop,
                    code="COFFEELOVER20",
                    kind=DiscountCode.Kind.PERCENTAGE,
                    value=Decimal("20"),
                    applies_to=DiscountCode.AppliesTo.SUBSCRIPTION,
                    duration=DiscountCode.Duration.ALL,
                    usage_limit=100,
                ),
                DiscountCode(
                    shop=shop,
                    code="SUMMER15",
                    kind=DiscountCode.Kind.PERCENTAGE,
                    value=Decimal("15"),
                    duration=DiscountCode.Duration.FIRST_PAYMENT,
                    starts_at=now - dt.timedelta(days=400),
                    ends_at=now - dt.timedelta(days=300),
                ),
                DiscountCode(
                    shop=shop,
                    code="FREEMUG",
                    kind=DiscountCode.Kind.FIXED,
                    value=Decimal("18.00"),
                    applies_to=DiscountCode.AppliesTo.ONE_TIME,
                    duration=DiscountCode.Duration.FIRST_PAYMENT,
                    active=False,
                ),
            ]
        )
        cat.loyal_code = codes[1]
        return cat

    def _other_catalogue(self, shop: Shop) -> Catalogue:
        cat = Catalogue(shop=shop)
        program = SubscriptionProgram.objects.create(shop=shop, name="Sock Drawer")
        product = Product.objects.create(shop=shop, title="Merino Socks")
        variants = [
            Variant.objects.create(
                shop=shop, product=product, title=size, sku=f"SOCK-{size}", price=Decimal("14.00")
            )
            for size in ("S", "M", "L")
        ]
        program.products.set([product])
        plan = Plan.objects.create(shop=shop, program=program, name="Every 3 months", interval_count=3)
        cat.plans, cat.plan_weights = [plan], [1]
        cat.variants_by_program[program.pk] = variants
        return cat

    # ------------------------------------------------------------------ customers and subscriptions

    def _load_customers(self, cat: Catalogue, n: int, rng: random.Random, *, email_domain: str) -> Counts:
        counts = Counts()
        today = cat.shop.local_today()
        for variants in cat.variants_by_program.values():
            cat.titles.update({v.pk: f"{v.product.title} — {v.title}" for v in variants})
        for start in range(0, n, BATCH_CUSTOMERS):
            with transaction.atomic():
                self._load_batch(
                    cat, range(start, min(n, start + BATCH_CUSTOMERS)), rng, today, email_domain, counts
                )
            if n > BATCH_CUSTOMERS:
                self.stdout.write(f"  {counts.customers}/{n} customers, {counts.subscriptions} subscriptions")
        return counts

    def _load_batch(
        self,
        cat: Catalogue,
        numbers: range,
        rng: random.Random,
        today: dt.date,
        email_domain: str,
        counts: Counts,
    ) -> None:
        shop = cat.shop
        tz = shop.tz
        billing_time = shop.billing_time

        def at(date: dt.date, jitter_minutes: int = 0) -> dt.datetime:
            """Billing time on a shop-local date, as an aware datetime."""
            return dt.datetime.combine(date, billing_time, tz) + dt.timedelta(minutes=jitter_minutes)

        # Customers, with one address and one card each.
        customers = []
        for i in numbers:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            customers.append(
                Customer(
                    shop=shop,
                    email=f"{first}.{last}.{i + 1}@{email_domain}".lower(),
                    first_name=first,
                    last_name=last,
                    phone=f"+1{rng.randint(201, 989)}555{rng.randint(0, 9999):04d}"
                    if rng.random() < 0.6
                    else "",
                    has_logged_in=rng.random() < 0.45,
                    external_id=str(6_100_000_000 + i),
                )
            )
        addresses, cards = [], []
        for c in customers:
            city, province, zip_prefix = rng.choice(CITIES)
            addresses.append(
                Address(
                    shop=shop,
                    customer=c,
                    first_name=c.first_name,
                    last_name=c.last_name,
                    line1=f"{rng.randint(1, 9899)} {rng.choice(STREETS)}",
                    line2=f"Apt {rng.randint(1, 40)}" if rng.random() < 0.2 else "",
                    city=city,
                    province=province,
                    postal_code=f"{zip_prefix}{rng.randint(0, 99):02d}",
                    country="US",
                    phone=c.phone,
                )
            )
            cards.append(
                PaymentMethod(
                    shop=shop,
                    customer=c,
                    gateway=PaymentMethod.Gateway.TEST,
                    # A few cards decline, so failed renewals and dunning can be demonstrated.
                    token="tok_declined" if rng.random() < 0.05 else "tok_success",
                    brand=rng.choice(CARD_BRANDS),
                    last4=f"{rng.randint(0, 9999):04d}",
                    exp_month=rng.randint(1, 12),
                    exp_year=today.year + rng.randint(0, 5),
                )
            )

        # Subscriptions: 1-5 per customer, three on average. Each one's schedule is decided here and
        # kept beside it (`schedules`) for its lines, orders and history. Rows are built before their
        # parents are saved: bulk_create fills in the foreign keys from the saved parents.
        subs: list[Subscription] = []
        schedules: list[tuple[Plan, list[dt.date]]] = []
        for c, address, card in zip(customers, addresses, cards, strict=True):
            for _ in range(rng.choices((1, 2, 3, 4, 5), weights=(15, 20, 30, 20, 15))[0]):
                plan = rng.choices(cat.plans, weights=cat.plan_weights)[0]
                status = rng.choices(Status.values, weights=(70, 15, 15))[0]
                n_orders = rng.choices((0, 1, 2), weights=(15, 40, 45))[0]
                if plan.max_cycles:
                    n_orders = min(n_orders, plan.max_cycles)
                unit, step = plan.interval_unit, plan.interval_count
                if status == Status.ACTIVE:
                    # Next renewal within one interval from tomorrow; the last one an interval before.
                    span = (add_interval(today, unit, step) - today).days
                    next_date = today + dt.timedelta(days=rng.randint(1, span - 1))
                    anchor = next_date.day
                    last = add_interval(next_date, unit, -step, anchor)
                else:
                    last = today - dt.timedelta(days=rng.randint(3, 75))
                    anchor = last.day
                    next_date = add_interval(last, unit, step, anchor)
                past = [last] if n_orders else []
                while 0 < len(past) < n_orders:
                    past.insert(0, add_interval(past[0], unit, -step, anchor))
                if past:
                    created_on = past[0]
                elif status == Status.ACTIVE:
                    created_on = today - dt.timedelta(days=rng.randint(0, 6))  # first renewal still ahead
                else:
                    created_on = last - dt.timedelta(days=rng.randint(1, 20))
                created_at = at(created_on, -rng.randint(60, 60 * 24 * 10))
                sub = Subscription(
                    shop=shop,
                    customer=c,
                    plan=plan,
                    status=status,
                    next_billing_date=next_date,
                    anchor_day=anchor,
                    order_count=n_orders,
                    payment_method=card,
                    shipping_address=address,
                    currency=shop.currency,
                    external_id=f"{9_000_000_000 + counts.subscriptions + len(subs)}",  # unique: finds the id
                    created_at=created_at,
                )
                if status == Status.PAUSED:
                    sub.paused_at = at(
                        min(today - dt.timedelta(days=1), last + dt.timedelta(days=rng.randint(1, 20))), 125
                    )
                    if rng.random() < 0.4:
                        sub.auto_resume_date = today + dt.timedelta(days=rng.randint(7, 60))
                elif status == Status.CANCELLED:
                    sub.cancelled_at = at(
                        min(today - dt.timedelta(days=1), last + dt.timedelta(days=rng.randint(1, 20))), 250
                    )
                    sub.cancel_reason = rng.choice(CANCEL_REASONS)
                subs.append(sub)
                schedules.append((plan, past))
                if c.subscriber_since is None or created_at < c.subscriber_since:
                    c.subscriber_since = created_at
        insert_objects(customers, key="email")
        insert_objects(addresses, key="customer_id")  # one address and one card per customer
        insert_objects(cards, key="customer_id")
        insert_objects(subs, key="external_id")

        # Lines, orders with their lines, skips, discounts and the activity log: plain rows.
        now = timezone.now()
        customer_actor = ActivityLog.ActorType.CUSTOMER
        lines, orders, skips, discounts, logs = [], [], [], [], []
        lines_of: dict[int, list[tuple]] = {}
        for sub, (plan, past) in zip(subs, schedules, strict=True):
            choices = cat.variants_by_program[plan.program_id]
            k = min(len(choices), rng.choices((1, 2, 3), weights=(50, 35, 15))[0])
            sub_lines = [
                (v, rng.choices((1, 2, 3), weights=(75, 20, 5))[0], plan.unit_price(v.price))
                for v in rng.sample(choices, k)
            ]
            lines += [(shop.pk, sub.pk, v.pk, q, price) for v, q, price in sub_lines]
            lines_of[sub.pk] = sub_lines
            subtotal = sum((price * q for _, q, price in sub_lines), Decimal("0.00"))
            address = sub.shipping_address.as_dict()
            for date in past:
                paid_at = at(date, rng.randint(0, 30))
                orders.append(
                    (
                        shop.pk,
                        sub.customer.pk,
                        sub.pk,
                        date,
                        Order.Status.PAID,
                        shop.currency,
                        subtotal,
                        Decimal("0.00"),
                        subtotal,
                        address,
                        False,
                        str(4_000_000_000 + rng.randint(0, 999_999_999)),
                        paid_at,
                        paid_at,
                    )
                )
            email = sub.customer.email
            logs.append(
                (
                    shop.pk,
                    sub.customer.pk,
                    sub.pk,
                    customer_actor,
                    email,
                    "created",
                    f"Subscription created on {plan.program.name}: {plan.name}",
                    {},
                    sub.created_at,
                )
            )
            if sub.status == Status.ACTIVE and rng.random() < 0.06:
                # Skip the order after next: still ahead, and on the subscription's schedule.
                skip_date = sub.date_after(sub.next_billing_date)
                when = now - dt.timedelta(minutes=rng.randint(60, 60 * 24 * 14))
                skips.append((shop.pk, sub.pk, skip_date, when))
                logs.append(
                    (
                        shop.pk,
                        sub.customer.pk,
                        sub.pk,
                        customer_actor,
                        email,
                        "skipped",
                        f"Order of {skip_date.isoformat()} skipped",
                        {"skipped_date": skip_date.isoformat()},
                        when,
                    )
                )
            if sub.status == Status.ACTIVE and cat.loyal_code and rng.random() < 0.05:
                discounts.append((shop.pk, sub.pk, cat.loyal_code.pk, rng.randint(1, 3), sub.created_at))
            if sub.status == Status.PAUSED:
                until = f" until {sub.auto_resume_date.isoformat()}" if sub.auto_resume_date else ""
                logs.append(
                    (
                        shop.pk,
                        sub.customer.pk,
                        sub.pk,
                        customer_actor,
                        email,
                        "paused",
                        f"Paused{until}",
                        {},
                        sub.paused_at,
                    )
                )
            elif sub.status == Status.CANCELLED:
                logs.append(
                    (
                        shop.pk,
                        sub.customer.pk,
                        sub.pk,
                        customer_actor,
                        email,
                        "canceled",
                        f"Cancelled: {sub.cancel_reason}",
                        {"reason": sub.cancel_reason},
                        sub.cancelled_at,
                    )
                )
            counts.by_status[sub.status] += 1

        insert_rows(SubscriptionLine, ["shop", "subscription", "variant", "quantity", "unit_price"], lines)
        insert_rows(
            Order,
            [
                "shop",
                "customer",
                "subscription",
                "billing_date",
                "status",
                "currency",
                "subtotal",
                "discount_total",
                "total",
                "shipping_address",
                "is_gift",
                "external_id",
                "created_at",
                "paid_at",
            ],
            orders,
        )
        # Orders are unique per (subscription, billing date): one query finds the new ids.
        order_lines = []
        for order_id, sub_id in Order.objects.filter(
            shop=shop, subscription_id__gte=min(lines_of), subscription_id__lte=max(lines_of)
        ).values_list("id", "subscription_id"):
            for v, q, price in lines_of[sub_id]:
                order_lines.append((shop.pk, order_id, v.pk, cat.titles[v.pk], v.sku, q, price, price * q))
        insert_rows(
            OrderLine,
            ["shop", "order", "variant", "title", "sku", "quantity", "unit_price", "total"],
            order_lines,
        )
        insert_rows(SkippedDate, ["shop", "subscription", "date", "created_at"], skips)
        insert_rows(
            SubscriptionDiscount,
            ["shop", "subscription", "code", "payments_remaining", "applied_at"],
            discounts,
        )
        insert_rows(
            ActivityLog,
            [
                "shop",
                "customer",
                "subscription",
                "actor_type",
                "actor_name",
                "action",
                "description",
                "details",
                "created_at",
            ],
            logs,
        )
        if discounts:
            DiscountCode.objects.filter(pk=cat.loyal_code.pk).update(
                times_used=cat.loyal_code.times_used + len(discounts)
            )
            cat.loyal_code.times_used += len(discounts)

        counts.customers += len(customers)
        counts.subscriptions += len(subs)
        counts.orders += len(orders)

    def _add_gift(self, shop: Shop, rng: random.Random) -> None:
        """Gift the next order of a few active subscriptions (at least one)."""
        subs = list(
            Subscription.objects.filter(shop=shop, status=Status.ACTIVE)
            .select_related("customer")
            .order_by("id")[: max(1, shop.subscriptions.count() // 200)]
        )
        for sub in subs:
            city, province, zip_prefix = rng.choice(CITIES)
            first = rng.choice(FIRST_NAMES)
            Gift.objects.create(
                shop=shop,
                subscription=sub,
                billing_date=sub.next_billing_date,
                recipient_first_name=first,
                recipient_last_name=sub.customer.last_name,
                recipient_email=f"{first}.{sub.customer.last_name}.gift{sub.pk}@example.com".lower(),
                message="Happy birthday! Enjoy a bag on me.",
                line1=f"{rng.randint(1, 9899)} {rng.choice(STREETS)}",
                city=city,
                province=province,
                postal_code=f"{zip_prefix}{rng.randint(0, 99):02d}",
                country="US",
            )
            ActivityLog.objects.create(
                shop=shop,
                customer=sub.customer,
                subscription=sub,
                actor_type=ActivityLog.ActorType.CUSTOMER,
                actor_name=sub.customer.email,
                action="gifted",
                description=f"Order of {sub.next_billing_date.isoformat()} gifted to {first}",
            )
