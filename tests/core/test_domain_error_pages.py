"""SPEC (bad input gets a clear error, never a 500): a domain error that a web view did not
catch is mapped in one place to the page it means."""

import pytest

pytestmark = pytest.mark.urls("tests.core.domain_error_urls")


def test_not_found_is_the_404_page(client, owner):
    client.force_login(owner)
    response = client.get("/missing/")
    assert (response.status_code, response["Content-Type"].split(";")[0]) == (404, "text/html")


def test_forbidden_is_the_403_page(client, owner):
    client.force_login(owner)
    assert client.get("/forbidden/").status_code == 403


def test_a_conflict_goes_back_to_the_page_with_its_message(client, owner):
    client.force_login(owner)
    response = client.post("/conflict/", HTTP_REFERER="http://testserver/customers/")
    assert (response.status_code, response["Location"]) == (302, "http://testserver/customers/")
    page = client.get("/customers/").content.decode()
    assert "这个单元已被预订" in page


def test_a_refused_value_without_a_page_to_return_to_is_a_4xx_not_a_500(client, owner):
    client.force_login(owner)
    assert client.post("/invalid/").status_code == 422


def test_a_foreign_referer_is_not_followed(client, owner):
    client.force_login(owner)
    response = client.post("/conflict/", HTTP_REFERER="https://evil.example/")
    assert response.status_code == 409
