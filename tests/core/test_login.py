"""Logging in: argon2 hashes, throttling after failed attempts (django-axes), password change."""

import pytest
from django.contrib.auth import get_user_model

from guanxi import settings as project_settings
from guanxi.core.services import user_create
from tests.conftest import PASSWORD

WRONG = "not-the-password-1"


def log_in(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def test_correct_password_logs_in(client, owner):
    response = log_in(client, "sales1", PASSWORD)
    assert (response.status_code, response.url) == (302, "/")


def test_wrong_password_is_refused(client, owner):
    response = log_in(client, "sales1", WRONG)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()


def test_five_failed_logins_lock_out_even_the_correct_password(client, owner):
    for _ in range(5):
        log_in(client, "sales1", WRONG)
    response = log_in(client, "sales1", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_four_failed_logins_do_not_lock_out(client, owner):
    for _ in range(4):
        log_in(client, "sales1", WRONG)
    assert log_in(client, "sales1", PASSWORD).status_code == 302


def test_lockout_of_one_username_does_not_lock_out_another(client, owner, teammate):
    for _ in range(5):
        log_in(client, "sales1", WRONG)
    assert log_in(client, "sales2", PASSWORD).status_code == 302


def test_passwords_are_stored_as_argon2_hashes(settings, admin_user):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    user = user_create(
        actor=admin_user,
        username="newbie",
        password="Quite-long-passphrase-77",
        display_name="新人",
        org_unit=admin_user.org_unit,
        roles=["sales"],
    )
    stored = get_user_model().objects.get(pk=user.pk).password
    assert stored.startswith("argon2$argon2id$")


def test_user_changes_own_password(client, owner):
    client.force_login(owner)
    response = client.post(
        "/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "Another-long-secret-2025",
            "new_password2": "Another-long-secret-2025",
        },
    )
    owner.refresh_from_db()
    assert (response.status_code, response.url) == (302, "/password/done/")
    assert owner.check_password("Another-long-secret-2025")


def test_password_change_needs_the_old_password(client, owner):
    client.force_login(owner)
    client.post(
        "/password/",
        {
            "old_password": WRONG,
            "new_password1": "Another-long-secret-2025",
            "new_password2": "Another-long-secret-2025",
        },
    )
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


@pytest.mark.parametrize("path", ["/customers/", "/audit/", "/tokens/"])
def test_pages_send_anonymous_visitors_to_login(client, path):
    response = client.get(path)
    assert (response.status_code, response.url.split("?")[0]) == (302, "/login/")
