"""The desk's web pages: register and see the decision, who is next, disputes, statistics and
their CSV / Excel export, settings; who may open which."""

import csv
import io

import pytest
from django.conf import settings
from django.utils import timezone
from openpyxl import load_workbook

from guanxi.reception import services
from guanxi.reception.models import Dispute, DutySlot, Visit
from guanxi.reception.selectors import visit_statistics

from .helpers import new_phone


@pytest.fixture
def desk_client(client, receptionist, roster):
    client.force_login(receptionist)
    return client


def test_desk_page_shows_who_is_next(desk_client, trio):
    page = desk_client.get("/reception/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="next-up"' in html and str(trio[0]) in html


def test_desk_registers_and_shows_the_decision(desk_client, trio):
    response = desk_client.post(
        "/reception/",
        {"phone": "139 1111 0000", "name": "冯先生", "intention": "B", "party_size": "2"},
    )
    visit = Visit.objects.get()
    assert (visit.receiver_id, visit.intention, visit.party_size) == (trio[0].pk, "B", 2)
    # Redirected, so that reloading the page does not register the visitor twice.
    assert response.status_code == 302
    assert response["Location"] == f"/reception/?received={visit.pk}"
    html = desk_client.get(response["Location"]).content.decode()
    assert 'id="decision-receiver">张伟<' in html
    assert 'id="next-up">李娜<' in html
    assert Visit.objects.count() == 1


def test_desk_shows_only_its_own_branchs_decisions(desk_client, client, trio, sh_manager):
    desk_client.post("/reception/", {"phone": "13911110000", "name": "冯先生"})
    visit = Visit.objects.get()
    client.force_login(sh_manager)
    html = client.get(f"/reception/?received={visit.pk}").content.decode()
    assert 'id="decision"' not in html and "冯先生" not in html


def test_desk_form_errors_keep_the_values_and_write_nothing(desk_client, trio):
    c = trio[2]
    DutySlot.objects.filter(salesperson=c).update(state="out")
    response = desk_client.post(
        "/reception/", {"phone": new_phone(), "name": "褚女士", "prefers": str(c.pk)}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-field="prefers"' in html and "褚女士" in html
    assert not Visit.objects.exists()
    response = desk_client.post("/reception/", {"phone": "123", "name": "x"})
    assert 'data-field="phone"' in response.content.decode()


def test_next_screen_and_its_partial(desk_client, trio):
    assert desk_client.get("/reception/next/").status_code == 200
    partial = desk_client.get("/reception/next/", headers={"HX-Request": "true"})
    assert partial.content.decode().lstrip().startswith('<div class="card')
    assert "李娜" in partial.content.decode()  # waiting after 张伟


def test_lookup_tells_a_returning_customer(desk_client, trio):
    desk_client.post("/reception/", {"phone": "13911110000", "name": "冯先生"})
    html = desk_client.get("/reception/lookup/", {"phone": "13911110000"}).content.decode()
    assert 'id="returning-customer"' in html and "冯先生" in html and "张伟" in html
    assert (
        "returning-customer"
        not in desk_client.get("/reception/lookup/", {"phone": new_phone()}).content.decode()
    )


def test_slot_state_buttons(desk_client, trio):
    slot = DutySlot.objects.get(salesperson=trio[0])
    response = desk_client.post(f"/reception/slots/{slot.pk}/state/", {"state": "busy"})
    assert response.status_code == 302
    slot.refresh_from_db()
    assert slot.state == "busy"


def test_roster_page_sets_the_order(desk_client, trio):
    a, _b, c = trio
    response = desk_client.post(
        "/reception/roster/",
        {
            "on_duty": [str(a.pk), str(c.pk)],
            f"pos-{a.pk}": "2",
            f"pos-{c.pk}": "1",
        },
    )
    assert response.status_code == 302
    order = list(
        DutySlot.objects.filter(state="on_duty")
        .order_by("position")
        .values_list("salesperson_id", flat=True)
    )
    assert order == [c.pk, a.pk]


@pytest.mark.parametrize("who", ["marketer", "service_agent", "finance"])
def test_back_office_roles_get_404_on_the_desk(client, who, request, roster):
    client.force_login(request.getfixturevalue(who))
    assert client.get("/reception/").status_code == 404
    assert client.get("/reception/next/").status_code == 404


def test_disputes_pages_for_the_manager_only(client, desk_client, trio, manager):
    a, b, _c = trio
    desk_client.post("/reception/", {"phone": "13911110000", "name": "钱先生"})
    desk_client.post(
        "/reception/",
        {"phone": "13911110000", "named": [str(a.pk)], "refuses": str(a.pk), "complaint": "1"},
    )
    dispute = Dispute.objects.get()
    assert desk_client.get("/reception/disputes/").status_code == 404
    client.force_login(manager)
    assert (
        f"/reception/disputes/{dispute.pk}/" in client.get("/reception/disputes/").content.decode()
    )
    bad = client.post(
        f"/reception/disputes/{dispute.pk}/",
        {"credit": str(b.pk), f"pct-{b.pk}": "90", "reason": "x"},
    )
    # The refusal is named on its field (the split), with the typed values kept.
    assert bad.status_code == 422 and 'data-field="split"' in bad.content.decode()
    assert f'name="pct-{b.pk}" inputmode="decimal" value="90"' in bad.content.decode()
    ok = client.post(
        f"/reception/disputes/{dispute.pk}/",
        {"credit": str(b.pk), f"pct-{b.pk}": "100", "reason": "投诉属实"},
    )
    assert ok.status_code == 302
    dispute.refresh_from_db()
    assert dispute.state == "decided"
    assert client.get(f"/reception/disputes/{dispute.pk}/").status_code == 404


# ---- statistics ----------------------------------------------------------------------------


@pytest.fixture
def day_of_visits(desk, trio):
    """Today: 3 new walk-ins (A, B, C), 1 returning walk-in (A's), 2 new calls (A, B)."""
    desk.walk_in("13911110000", "冯先生", intention="A", source="walk_in")
    desk.walk_in(intention="B", source="walk_in")
    desk.walk_in(intention="B", source="exhibition")
    desk.walk_in("13911110000")  # returning, back to A
    desk.walk_in(kind="call", intention="C")
    desk.walk_in(kind="call")


def test_statistics_count_new_returning_and_calls(day_of_visits, trio, org):
    a, b, c = trio
    today = timezone.localdate()
    by_person = {r.key: r for r in visit_statistics(org["bj"], today, today, "salesperson")}
    assert {k: (r.visits_new, r.visits_returning, r.calls) for k, r in by_person.items()} == {
        str(a): (1, 1, 1),
        str(b): (1, 0, 1),
        str(c): (1, 0, 0),
    }
    (day,) = visit_statistics(org["bj"], today, today, "day")
    assert (day.visits_new, day.visits_returning, day.calls, day.total) == (3, 1, 2, 6)
    assert (day.intention_a, day.intention_b, day.intention_c) == (1, 2, 1)
    by_source = {r.key: r.total for r in visit_statistics(org["bj"], today, today, "source")}
    assert by_source == {"—": 3, "walk_in": 2, "exhibition": 1}


def test_statistics_of_another_day_are_empty(day_of_visits, org):
    from datetime import timedelta

    yesterday = timezone.localdate() - timedelta(days=1)
    assert visit_statistics(org["bj"], yesterday, yesterday, "day") == []


def test_stats_page_and_csv_export(day_of_visits, client, manager, trio):
    client.force_login(manager)
    page = client.get("/reception/stats/", {"group": "salesperson"})
    assert page.status_code == 200 and "张伟" in page.content.decode()
    response = client.get("/reception/stats/", {"group": "day", "export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["Day", "New visitors", "Returning visitors", "Calls"]
    assert rows[1][1:4] == ["3", "1", "2"] and rows[1][-1] == "6"


def test_stats_group_labels_follow_each_viewers_language(day_of_visits, client, manager, trio):
    client.force_login(manager)
    for language, label in (("en", "Day"), ("zh-hans", "日期"), ("en", "Day")):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        response = client.get("/reception/stats/", {"group": "day", "export": "csv"})
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0][0] == label


def test_stats_excel_export(day_of_visits, client, receptionist, trio):
    client.force_login(receptionist)
    response = client.get("/reception/stats/", {"group": "salesperson", "export": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["张伟"][1:4] == (1, 1, 1)
    assert rows["王芳"][-1] == 1


def test_stats_bad_range_redirects_with_a_message(client, manager, roster):
    client.force_login(manager)
    response = client.get("/reception/stats/", {"start": "2026-03-05", "end": "2026-03-01"})
    assert response.status_code == 302


def test_salesperson_gets_404_on_stats(client, owner, roster):
    client.force_login(owner)
    assert client.get("/reception/stats/").status_code == 404


def test_settings_page_refuses_pairs_not_adding_up(client, manager, org):
    client.force_login(manager)
    page = client.get("/reception/settings/")
    assert page.status_code == 200
    config = services.settings_for(org["bj"])
    values = {
        f.name: str(getattr(config, f.name))
        for f in config._meta.fields
        if f.name not in ("id", "branch")
    }
    values["case7_previous_pct"] = "40"
    response = client.post("/reception/settings/", values)
    assert response.status_code == 200
    assert "100%" in response.content.decode()
    config.refresh_from_db()
    assert str(config.case7_previous_pct) == "50.00"


def test_lookup_is_for_the_desk_and_the_viewers_customers_only(
    client, desk_client, trio, marketer, org
):
    from guanxi.core.models import Role
    from tests.conftest import make_user

    desk_client.post("/reception/", {"phone": "13911110000", "name": "冯先生"})
    client.force_login(marketer)
    assert client.get("/reception/lookup/", {"phone": "13911110000"}).status_code == 404
    client.force_login(make_user("reception_sh", org["sh"], Role.RECEPTIONIST))
    html = client.get("/reception/lookup/", {"phone": "13911110000"}).content.decode()
    assert "冯先生" not in html and "returning-customer" not in html
    # A colleague's customer is not shown to a salesperson either; the owner's is.
    client.force_login(trio[1])
    assert (
        "冯先生" not in client.get("/reception/lookup/", {"phone": "13911110000"}).content.decode()
    )
    client.force_login(trio[0])
    assert "冯先生" in client.get("/reception/lookup/", {"phone": "13911110000"}).content.decode()


def test_roster_page_ignores_a_position_that_is_not_a_number(desk_client, trio):
    a, b, _c = trio
    response = desk_client.post(
        "/reception/roster/", {"on_duty": [str(a.pk), str(b.pk)], f"pos-{a.pk}": "first"}
    )
    assert response.status_code == 302
