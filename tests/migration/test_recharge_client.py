"""The Recharge client's handling of the API's answers (against the local fake Recharge)."""

import pytest

from migration.adapters.recharge import RechargeClient, RechargeError
from tests.migration.conftest import TOKEN


def test_pages_follow_next_cursor_until_it_is_null(fake, sleeps):
    client = RechargeClient(TOKEN)
    first = client.list_page("customers")
    assert [c["id"] for c in first.records] == [101, 102] and first.next_cursor
    second = client.list_page("customers", first.next_cursor)
    third = client.list_page("customers", second.next_cursor)
    assert [c["id"] for c in third.records] == [105] and third.next_cursor is None
    assert fake.requests[1]["query"] == {"limit": "250", "cursor": first.next_cursor}


def test_429_without_retry_after_backs_off_exponentially(fake, sleeps):
    fake.scripted = {1: (429, {}), 2: (429, {})}
    assert RechargeClient(TOKEN).list_page("addresses").records
    assert sleeps == [1.0, 2.0]


def test_a_passing_5xx_is_retried_and_a_lasting_one_is_an_error(fake, sleeps):
    fake.failing_pages[("subscriptions", 0)] = 1
    assert RechargeClient(TOKEN).list_page("subscriptions").records
    fake.failing_pages[("subscriptions", 0)] = 3
    with pytest.raises(RechargeError) as failed:
        RechargeClient(TOKEN).list_page("subscriptions")
    assert failed.value.status == 500 and failed.value.field is None


def test_a_refused_request_reports_recharge_s_error(fake, sleeps):
    with pytest.raises(RechargeError) as failed:
        RechargeClient(TOKEN).list_page("customers", "not-a-cursor")
    assert failed.value.status == 422 and "cursor" in failed.value.message


def test_an_unreachable_recharge_is_an_error_after_retries(settings, sleeps):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    client = RechargeClient(TOKEN, base_url="http://127.0.0.1:9")  # discard port: refused
    with pytest.raises(RechargeError) as failed:
        client.list_page("customers")
    assert "could not be reached" in failed.value.message and len(sleeps) == 2
