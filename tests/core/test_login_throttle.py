"""C8: login throttling stops guessing but cannot lock out the real user (issue #12 item 9)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from guanxi.core.models import AuditEntry
from tests.conftest import PASSWORD, make_user

WRONG = "not-the-password-1"


def log_in(client, username, password, address="10.0.0.1", forwarded=None):
    extra = {"REMOTE_ADDR": address}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post("/login/", {"username": username, "password": password}, **extra)


def lock(client, username, **where):
    for _ in range(5):
        log_in(client, username, WRONG, **where)


def test_someone_guessing_elsewhere_does_not_lock_out_the_real_user(client, owner):
    lock(client, "sales1", address="203.0.113.9")
    assert log_in(client, "sales1", WRONG, address="203.0.113.9").status_code == 429
    assert log_in(client, "sales1", PASSWORD, address="10.0.0.1").status_code == 302


def test_a_lock_ends_on_time_even_while_the_guessing_goes_on(client, owner):
    lock(client, "sales1")
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        log_in(client, "sales1", WRONG)  # still locked: must not restart the cool-off
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert log_in(client, "sales1", PASSWORD).status_code == 302


def test_one_address_spraying_many_usernames_waits(client, settings, org, owner):
    settings.GUANXI_LOGIN_ADDRESS_LIMIT = 8
    for n in range(8):
        log_in(client, f"nobody{n}", WRONG, address="198.51.100.7")
    assert log_in(client, "sales1", PASSWORD, address="198.51.100.7").status_code == 429
    assert log_in(client, "sales1", PASSWORD, address="10.0.0.1").status_code == 302


def test_a_forged_forwarded_for_is_ignored_without_a_trusted_proxy(client, owner):
    for n in range(5):
        log_in(client, "sales1", WRONG, address="203.0.113.9", forwarded=f"192.0.2.{n}")
    # All five counted against the real sender, whatever the header said.
    assert log_in(client, "sales1", PASSWORD, address="203.0.113.9").status_code == 429


def test_behind_the_trusted_proxy_each_client_has_its_own_address(client, settings, owner):
    settings.GUANXI_TRUSTED_PROXIES = ["127.0.0.1"]
    lock(client, "sales1", address="127.0.0.1", forwarded="203.0.113.9")
    assert (
        log_in(client, "sales1", PASSWORD, address="127.0.0.1", forwarded="203.0.113.9").status_code
        == 429
    )
    # The real user comes through the same proxy from their own address.
    assert (
        log_in(client, "sales1", PASSWORD, address="127.0.0.1", forwarded="10.1.2.3").status_code
        == 302
    )


def test_an_admin_unlocks_a_locked_user(client, admin_user, owner):
    lock(client, "sales1")
    admin = type(client)()
    admin.force_login(admin_user)
    page = admin.get("/users/").content.decode()
    assert "Unlock login" in page
    response = admin.post(f"/users/{owner.pk}/unlock/")
    assert response.status_code == 302
    assert log_in(client, "sales1", PASSWORD).status_code == 302
    assert AuditEntry.objects.filter(verb="user.unlock", target_id=str(owner.pk)).exists()


@pytest.mark.parametrize("who", ["manager", "owner"])
def test_only_an_admin_unlocks(client, request, who, admin_user):
    target = make_user("victim", admin_user.org_unit)
    client.force_login(request.getfixturevalue(who))
    assert client.post(f"/users/{target.pk}/unlock/").status_code in (403, 404)
