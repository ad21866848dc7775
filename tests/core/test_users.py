"""User administration (C8): only administrators; users are deactivated, never deleted."""

import pytest

from guanxi.core.models import AuditEntry, User
from tests.conftest import PASSWORD


def new_user_form(org, **overrides):
    return {
        "username": "wangfang",
        "display_name": "王芳",
        "email": "wangfang@example.cn",
        "org_unit": org["bj_sales"].pk,
        "roles": ["sales", "receptionist"],
        "password": "Quite-long-passphrase-77",
        **overrides,
    }


def test_admin_creates_a_user_with_roles_and_unit(client, admin_user, org):
    client.force_login(admin_user)
    response = client.post("/users/new/", new_user_form(org))
    user = User.objects.get(username="wangfang")
    assert (response.status_code, response.url) == (302, "/users/")
    assert (user.org_unit, user.role_set, user.check_password("Quite-long-passphrase-77")) == (
        org["bj_sales"],
        frozenset({"sales", "receptionist"}),
        True,
    )


def test_user_creation_is_audited(client, admin_user, org):
    client.force_login(admin_user)
    client.post("/users/new/", new_user_form(org))
    entry = AuditEntry.objects.get(verb="user.create")
    assert (entry.actor, entry.target_id) == (admin_user, User.objects.get(username="wangfang").pk)


def test_weak_password_is_refused_and_no_user_created(client, admin_user, org):
    client.force_login(admin_user)
    response = client.post("/users/new/", new_user_form(org, password="123456"))
    assert "password" in response.context["form"].errors
    assert not User.objects.filter(username="wangfang").exists()


def test_taken_username_is_refused(client, admin_user, owner, org):
    client.force_login(admin_user)
    response = client.post("/users/new/", new_user_form(org, username="SALES1"))
    assert "username" in response.context["form"].errors
    assert User.objects.filter(username__iexact="sales1").count() == 1


def test_admin_changes_a_users_roles(client, admin_user, owner, org):
    client.force_login(admin_user)
    form = new_user_form(org, roles=["manager"])
    del form["password"]
    client.post(f"/users/{owner.pk}/", form)
    assert User.objects.get(pk=owner.pk).role_set == frozenset({"manager"})


@pytest.mark.parametrize("who", ["manager", "owner", "receptionist"])
def test_non_admin_gets_404_on_user_administration(client, request, who, owner):
    client.force_login(request.getfixturevalue(who))
    paths = ["/users/", "/users/new/", f"/users/{owner.pk}/"]
    assert [client.get(path).status_code for path in paths] == [404, 404, 404]


def test_non_admin_cannot_create_a_user_by_posting(client, manager, org):
    client.force_login(manager)
    assert client.post("/users/new/", new_user_form(org)).status_code == 404
    assert not User.objects.filter(username="wangfang").exists()


def test_deactivated_user_is_kept_and_cannot_log_in(client, admin_user, owner):
    client.force_login(admin_user)
    client.post(f"/users/{owner.pk}/active/", {"active": "0"})
    client.logout()
    response = client.post("/login/", {"username": "sales1", "password": PASSWORD})
    assert User.objects.filter(pk=owner.pk, is_active=False).exists()
    assert (response.status_code, "_auth_user_id" in client.session) == (200, False)


def test_deactivated_user_loses_an_open_session(client, admin_user, owner):
    client.force_login(owner)
    User.objects.filter(pk=owner.pk).update(is_active=False)
    assert client.get("/customers/").status_code == 302


def test_reactivated_user_can_log_in_again(client, admin_user, owner):
    client.force_login(admin_user)
    client.post(f"/users/{owner.pk}/active/", {"active": "0"})
    client.post(f"/users/{owner.pk}/active/", {"active": "1"})
    client.logout()
    assert client.post("/login/", {"username": "sales1", "password": PASSWORD}).status_code == 302


def test_admin_cannot_deactivate_themselves(client, admin_user):
    client.force_login(admin_user)
    client.post(f"/users/{admin_user.pk}/active/", {"active": "0"})
    assert User.objects.get(pk=admin_user.pk).is_active
