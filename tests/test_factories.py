"""Every factory builds a saved, valid row, and children land in their parent's shop."""

import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db

ALL_FACTORIES = [
    f.ShopFactory,
    f.UserFactory,
    f.StaffMembershipFactory,
    f.CustomerFactory,
    f.AddressFactory,
    f.PaymentMethodFactory,
    f.ProductFactory,
    f.VariantFactory,
    f.SubscriptionProgramFactory,
    f.PlanFactory,
    f.SubscriptionFactory,
    f.SubscriptionLineFactory,
    f.SkippedDateFactory,
    f.GiftFactory,
    f.OrderFactory,
    f.OrderLineFactory,
    f.DiscountCodeFactory,
    f.SubscriptionDiscountFactory,
    f.ActivityLogFactory,
    f.OutboxEventFactory,
]


def _related_shop_ids(obj) -> set[int]:
    """The shop of the object and of every related object that has one."""
    ids = {obj.shop_id} if hasattr(obj, "shop_id") else set()
    for field in obj._meta.concrete_fields:
        if field.is_relation and field.name != "shop":
            related = getattr(obj, field.name)
            if related is not None and hasattr(related, "shop_id"):
                ids.add(related.shop_id)
    return ids


@pytest.mark.parametrize("factory_class", ALL_FACTORIES, ids=lambda c: c.__name__)
def test_factory_builds_a_saved_valid_object_in_one_shop(factory_class):
    obj = factory_class()

    assert obj.pk is not None
    obj.full_clean()
    assert len(_related_shop_ids(obj)) <= 1


def test_staff_membership_user_is_staff():
    membership = f.StaffMembershipFactory()
    assert membership.user.is_staff
    assert membership.user.check_password("password")


def test_subscription_is_consistent_with_its_shop():
    sub = f.SubscriptionFactory(shop__currency="EUR")

    assert sub.status == sub.Status.ACTIVE
    assert sub.next_billing_date > sub.shop.local_today()
    assert sub.currency == "EUR"
    assert sub.payment_method.token == "tok_success"
    assert {sub.customer.shop, sub.plan.shop, sub.plan.program.shop} == {sub.shop}
    assert sub.payment_method.customer == sub.customer == sub.shipping_address.customer
    assert [line.shop for line in sub.lines.all()] == [sub.shop]
    assert sub.lines.get().variant.shop == sub.shop


def test_subscription_lines_hook():
    assert f.SubscriptionFactory(lines=0).lines.count() == 0
    assert f.SubscriptionFactory(lines=[]).lines.count() == 0
    assert f.SubscriptionFactory(lines=3, lines__quantity=2).lines.filter(quantity=2).count() == 3
    shop = f.ShopFactory()
    variants = f.VariantFactory.create_batch(2, shop=shop)
    sub = f.SubscriptionFactory(shop=shop, lines=variants)
    assert sorted(sub.lines.values_list("variant", flat=True)) == sorted(v.pk for v in variants)


def test_a_passed_parent_decides_the_shop():
    customer = f.CustomerFactory()
    sub = f.SubscriptionFactory(customer=customer)
    assert sub.shop == customer.shop
    assert sub.payment_method.customer == customer

    order = f.OrderFactory(subscription=sub)
    assert (order.shop, order.customer) == (sub.shop, customer)
    assert f.OrderLineFactory(order=order).variant.shop == sub.shop
    assert f.ActivityLogFactory(subscription=sub).customer == customer
    assert f.SkippedDateFactory(subscription=sub).shop == sub.shop
    assert f.SubscriptionLineFactory(subscription=sub).variant.shop == sub.shop
    assert f.OutboxEventFactory(shop_id=sub.shop_id).shop_id == sub.shop_id


def test_objects_of_two_shops_are_refused():
    with pytest.raises(ValueError, match="belongs to shop"):
        f.SubscriptionFactory(shop=f.ShopFactory(), customer=f.CustomerFactory())
