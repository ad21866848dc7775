"""Small helpers for the customer tests: the API paths, form data, channel probes."""

from datetime import date, time
from decimal import Decimal

from guanxi.customers.forms import CustomerForm
from guanxi.customers.models import Customer

API = "/api/v1/customers"
CHANNELS = frozenset(
    {"web list", "web detail", "web search", "api list", "api detail", "api search"}
)


def api_url(customer_or_id, suffix: str = "") -> str:
    pk = getattr(customer_or_id, "pk", customer_or_id)
    return f"{API}/{pk}{suffix}"


def api_ids(client, **params) -> list[int]:
    response = client.get(API, params)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["items"]]


def channels_seeing(client, customer: Customer) -> set[str]:
    """The channels through which the logged-in user reaches `customer`.

    Web list and detail, API list and detail, and search (web by name, API by the last
    four digits of the phone). A hidden record must answer 404 on both detail channels.
    """
    seen = set()
    url = customer.get_absolute_url()
    link = f'href="{url}"'
    if link in client.get("/customers/").content.decode():
        seen.add("web list")
    detail = client.get(url)
    assert detail.status_code in (200, 404), detail.status_code
    if detail.status_code == 200:
        seen.add("web detail")
    if link in client.get("/customers/", {"q": customer.name}).content.decode():
        seen.add("web search")
    if customer.pk in api_ids(client):
        seen.add("api list")
    api_detail = client.get(api_url(customer))
    assert api_detail.status_code in (200, 404), api_detail.status_code
    if api_detail.status_code == 200:
        seen.add("api detail")
    if customer.pk in api_ids(client, q=customer.primary_phone[-4:]):
        seen.add("api search")
    return seen


def _form_value(value):
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, Decimal):
        return str(value)
    return value


def form_data(customer: Customer | None = None, **overrides) -> dict:
    """What the customer form posts back: the record's current values, then `overrides`.

    Checkboxes that are off are left out, as a browser does.
    """
    data: dict = {}
    if customer is None:
        data = {
            "kind": "person",
            "source": "walk_in",
            "stage": "potential",
            "news_frequency": "normal",
            **{f"consent_{c}": "on" for c in ("phone", "sms", "email", "wechat", "post")},
        }
    else:
        for name in CustomerForm._meta.fields:
            if name in ("segment", "referred_by"):
                value = getattr(customer, f"{name}_id")
            else:
                value = getattr(customer, name)
            if isinstance(value, bool):
                if value:
                    data[name] = "on"
                continue
            data[name] = _form_value(value)
        data["phones"] = "\n".join(
            customer.phones.order_by("-is_primary", "id").values_list("number", flat=True)
        )
        data["tags"] = ", ".join(customer.tags.values_list("name", flat=True))
    for name, value in overrides.items():
        if value is None or value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else value
    return data
