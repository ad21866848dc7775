"""The receptionist's home (issue 18): today's visitors and calls, who is next, who waits."""

import re

from .helpers import Desk


def figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert match, f"no figure {name} on the page"
    return match.group(1).strip()


def test_receptionist_home_counts_todays_visitors_calls_and_who_waits(
    client, receptionist, desk: Desk, trio
):
    desk.walk_in(name="王五")
    desk.register(name="来电客户", kind="call")
    desk.register(name="等候客户")
    client.force_login(receptionist)
    html = client.get("/").content.decode()
    assert 'data-panel="reception.desk"' in html
    assert figure(html, "visits") == "2"
    assert figure(html, "calls") == "1"
    assert figure(html, "waiting") == "2"
    assert "等候客户" in html
    assert "Next in turn:" in html


def test_receptionist_without_a_roster_is_told_to_set_one(client, receptionist):
    client.force_login(receptionist)
    html = client.get("/").content.decode()
    assert "No duty roster for today yet" in html
