"""SPEC (lean pages): HTML is sent compressed; the sales-control board of 5,000 units stays
under 150 KiB on the wire."""

import gzip

from tests.sales.conftest import make_units


def test_board_of_5000_units_is_under_150_kib_compressed(client, manager, flat):
    make_units(flat, 5000)
    client.force_login(manager)
    response = client.get(f"/sales/board/?product={flat.pk}", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    body = response.content
    html = gzip.decompress(body)
    assert html.count(b"unit-cell") >= 5000
    print(f"board: {len(html) / 1024:.0f} KiB of HTML, {len(body) / 1024:.0f} KiB gzipped")
    assert len(body) < 150 * 1024, f"{len(body) / 1024:.0f} KiB compressed"
    assert len(html) > 4 * len(body)


def test_pages_are_plain_for_clients_that_do_not_ask(client, owner):
    client.force_login(owner)
    response = client.get("/")
    assert "Content-Encoding" not in response and b"<html" in response.content
