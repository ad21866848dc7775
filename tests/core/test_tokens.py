"""API tokens and authentication (C8): shown once, stored hashed, revocable."""

import hashlib

import pytest
from django.test import Client

from guanxi.core.models import ApiToken
from guanxi.core.services import token_create, token_revoke, user_set_active

CUSTOMERS = "/api/v1/customers"


def bearer(key: str) -> Client:
    """A script: no session, no cookies, only the Authorization header."""
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def key(owner) -> str:
    return token_create(actor=owner, name="同步脚本")[1]


def test_token_created_through_the_api_returns_its_key_once(client, owner):
    client.force_login(owner)
    created = client.post("/api/v1/tokens", {"name": "同步脚本"}, content_type="application/json")
    listed = client.get("/api/v1/tokens").json()
    assert (created.status_code, created.json()["key"].startswith("gx_")) == (201, True)
    assert [("key" in t, t["name"]) for t in listed] == [(False, "同步脚本")]


def test_only_the_sha256_of_the_key_is_stored(owner):
    token, raw = token_create(actor=owner, name="同步脚本")
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert stored["key_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert not [name for name, value in stored.items() if value == raw]


def test_bearer_token_authenticates_api_calls(owner, customer, key):
    response = bearer(key).get(CUSTOMERS)
    assert (response.status_code, [c["id"] for c in response.json()["items"]]) == (
        200,
        [customer.pk],
    )


def test_bearer_token_sees_only_what_its_user_sees(teammate, customer):
    raw = token_create(actor=teammate, name="脚本")[1]
    assert bearer(raw).get(f"{CUSTOMERS}/{customer.pk}").status_code == 404


def test_bearer_token_writes_without_a_csrf_token(owner, key):
    response = bearer(key).post(
        CUSTOMERS, {"name": "李四", "phones": ["13900002222"]}, content_type="application/json"
    )
    assert response.status_code == 201


def test_session_write_without_csrf_token_is_a_json_403(owner):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    response = browser.post(CUSTOMERS, {"name": "李四"}, content_type="application/json")
    kind = response["Content-Type"].split(";")[0]
    assert (response.status_code, kind) == (403, "application/json")
    assert response.json()["code"] in {"forbidden", "csrf_failed"}


def test_page_post_without_csrf_token_gets_the_styled_403_page(owner):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    response = browser.post("/customers/new/", {"name": "李四"})
    assert (response.status_code, response["Content-Type"].split(";")[0]) == (403, "text/html")


def test_revoked_token_is_refused_with_401(owner, key):
    token = ApiToken.objects.get(user=owner)
    token_revoke(actor=owner, token_id=token.pk)
    response = bearer(key).get(CUSTOMERS)
    assert (response.status_code, response.json()["code"]) == (401, "unauthenticated")


def test_token_revoked_through_the_api_is_refused(client, owner, key):
    client.force_login(owner)
    token = ApiToken.objects.get(user=owner)
    assert client.delete(f"/api/v1/tokens/{token.pk}").status_code == 200
    assert bearer(key).get(CUSTOMERS).status_code == 401


def test_token_of_a_deactivated_user_is_refused(admin_user, owner, key):
    user_set_active(actor=admin_user, user_id=owner.pk, active=False)
    assert bearer(key).get(CUSTOMERS).status_code == 401


def test_unknown_token_is_refused(owner, key):
    assert bearer(key + "x").get(CUSTOMERS).status_code == 401


def test_user_cannot_revoke_someone_elses_token(client, teammate, owner, key):
    client.force_login(teammate)
    token = ApiToken.objects.get(user=owner)
    assert client.delete(f"/api/v1/tokens/{token.pk}").status_code == 404
    assert bearer(key).get(CUSTOMERS).status_code == 200


def test_unauthenticated_api_call_gets_401_in_json(client, customer):
    response = client.get(CUSTOMERS)
    assert (response.status_code, response.json()["code"]) == (401, "unauthenticated")


def test_openapi_schema_is_served_and_lists_the_customer_endpoints(client):
    response = client.get("/api/v1/openapi.json")
    paths = response.json()["paths"]
    assert response.status_code == 200
    assert {"/api/v1/customers", "/api/v1/customers/{customer_id}"} <= set(paths)
