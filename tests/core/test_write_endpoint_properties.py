"""C8 property: no public write endpoint answers 5xx, whatever the body, and every refusal is
JSON with a machine-readable `code` and a `field`.

One hypothesis test per write operation of the OpenAPI document (parametrised from it, so a
new endpoint is covered the day it is added). Bodies mix valid-looking values with hostile
ones: control and bidi characters, integers beyond 64 bits, dates outside 1900–2200, zoned
times, money with three decimals, NaN.
"""

import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guanxi.api import api
from guanxi.core.models import Role
from tests.conftest import make_user, new_customer

SCHEMA = api.get_openapi_schema()
WRITES = sorted(
    (method.upper(), path)
    for path, item in SCHEMA["paths"].items()
    for method in item
    if method in ("post", "put", "patch", "delete")
)

HOSTILE_TEXT = st.text(
    alphabet=st.sampled_from(list("张三 a1@.-\n\t\x00\x07\x1b\x7f\x9b\u202e\u2067\ufeff")),
    max_size=12,
)
HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2**63 - 1, 2**63, -(2**63) - 1]),
    HOSTILE_TEXT,
    st.sampled_from(
        [
            "1899-12-31",
            "2201-01-01",
            "0001-01-01",
            "2026-02-30",
            "09:00:00+08:00",
            "2026-12-03T10:00:00+25:00",
            "1.005",
            "-0",
            "-0.00",
            "NaN",
            "1e400",
            "99999999999999999999.99",
            "",
        ]
    ),
    st.lists(HOSTILE_TEXT, max_size=3),
)


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _good(prop: dict):
    prop = _resolve(prop)
    if "enum" in prop:
        return st.sampled_from(prop["enum"])
    for option in prop.get("anyOf", []):
        if _resolve(option).get("type") != "null":
            return _good(option)
    kind = prop.get("type")
    return {
        "string": st.sampled_from(["张三", "13812345678", "2026-12-03", "100.00"]),
        "integer": st.integers(min_value=1, max_value=5),
        "number": st.sampled_from([1, "100.00"]),
        "boolean": st.booleans(),
        "array": st.just([]),
    }.get(kind, st.none())


def body_for(method: str, path: str):
    operation = SCHEMA["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if not schema:
        return st.just(None)
    resolved = _resolve(schema)
    properties = resolved.get("properties", {})
    required = set(resolved.get("required", []))
    if not properties:
        return st.just({})
    good = st.fixed_dictionaries(
        {name: _good(p) for name, p in properties.items() if name in required},
        optional={name: _good(p) for name, p in properties.items() if name not in required},
    )

    def spoil(parts):
        # Mostly a plausible body with one hostile field, so the probe gets past the schema.
        body, name, value, spoiled = parts
        if spoiled:
            body = {**body, name: value}
        return body

    return st.tuples(good, st.sampled_from(sorted(properties)), HOSTILE, st.booleans()).map(spoil)


@pytest.fixture
def everyone(org):
    """One person with every working role, so permission refusals do not hide the input."""
    return make_user(
        "all_roles",
        org["bj_sales"],
        Role.SALES,
        Role.MANAGER,
        Role.FINANCE,
        Role.RECEPTIONIST,
        Role.SERVICE,
    )


@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_write_endpoint_never_answers_5xx_and_refuses_with_code_and_field(
    client, everyone, method, path
):
    customer = new_customer(everyone, "李四", ("13900003333",))
    client.force_login(everyone)
    path_ids = st.one_of(
        st.just(customer.pk), st.integers(1, 3), st.integers(min_value=-(2**70), max_value=2**70)
    )

    @settings(
        max_examples=15,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=body_for(method, path), ident=path_ids)
    def probe(body, ident):
        url = re.sub(r"\{[^}]+\}", str(ident), path)
        payload = b"" if body is None else json.dumps(body, default=str).encode()
        response = client.generic(method, url, payload, content_type="application/json")
        assert response.status_code < 500, (url, body, response.content[:500])
        if response.status_code >= 400:
            error = response.json()
            assert {"code", "field"} <= set(error), (url, body, error)
        assert connection.in_atomic_block  # the test transaction is still usable

    probe()


def test_every_write_operation_is_probed():
    assert len(WRITES) >= 20
    assert ("POST", "/api/v1/customers") in WRITES


def test_decimal_in_a_probe_is_sent_as_text():
    assert json.dumps({"a": Decimal("1.005")}, default=str) == '{"a": "1.005"}'
