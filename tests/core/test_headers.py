"""C8: security headers and caching on every page and API answer."""

import re
from pathlib import Path

import guanxi

TEMPLATES = sorted(Path(guanxi.__file__).parent.rglob("templates/**/*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>")
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def test_no_template_needs_an_inline_script_or_handler():
    offenders = [
        f"{path.relative_to(Path(guanxi.__file__).parent)}: {match.group(0)}"
        for path in TEMPLATES
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER)
        for match in pattern.finditer(path.read_text())
        if "json_script" not in match.group(0)
    ]
    assert TEMPLATES and offenders == []


def test_pages_carry_a_policy_that_refuses_inline_scripts(client, owner, customer):
    client.force_login(owner)
    response = client.get(customer.get_absolute_url())
    policy = response["Content-Security-Policy"]
    script_src = next(p for p in policy.split("; ") if p.startswith("script-src"))
    assert script_src == "script-src 'self'"
    assert "frame-ancestors 'none'" in policy


def test_customer_page_and_api_are_never_stored_in_a_cache(client, owner, customer):
    client.force_login(owner)
    for url in (customer.get_absolute_url(), f"/api/v1/customers/{customer.pk}", "/customers/"):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"], url


def test_api_error_is_not_cached_either(client):
    response = client.get("/api/v1/customers")
    assert response.status_code == 401
    assert "no-store" in response["Cache-Control"]


def test_the_embeddable_lead_form_may_be_framed_and_other_pages_may_not(client, settings):
    from guanxi.core.middleware import EMBEDDABLE_POLICY

    assert "frame-ancestors 'none'" in client.get("/login/")["Content-Security-Policy"]
    assert "frame-ancestors *" in EMBEDDABLE_POLICY
    assert "script-src 'self'" in EMBEDDABLE_POLICY
