"""The public self-service pages (C5): FAQ without login (no customer data), "did this
solve it?" deflections, the contact form behind a proof-of-work captcha and a rate limit,
and the satisfaction survey by signed link."""

import altcha
import pytest

from guanxi.service import care, knowledge
from guanxi.service.models import Deflection, PublicSubmission, Status, Survey, Ticket
from guanxi.service.services import ticket_transition

from .helpers import open_ticket


@pytest.fixture(autouse=True)
def _easy_captcha(settings):
    settings.GUANXI_CAPTCHA_PREFIX = "0"  # one hex zero: a few hashes per test


def solved(client) -> str:
    """What the browser's widget posts: the challenge, solved."""
    challenge = altcha.Challenge.from_dict(client.get("/help/captcha/").json())
    return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()


def form(**overrides):
    return {
        "name": "李先生",
        "phone": "13900001111",
        "type": "repair",
        "message": "洗衣机不脱水",
        **overrides,
    }


@pytest.fixture
def article(agent):
    return knowledge.article_save(
        actor=agent,
        data={
            "title_zh": "热水器不出热水怎么办",
            "title_en": "The water heater gives no hot water",
            "body_zh": "先检查燃气阀门是否打开。",
            "body_en": "First check that the gas valve is open.",
            "type": "repair",
            "published": True,
        },
    )


def test_faq_search_finds_articles_by_pinyin_and_initials(client, article):
    link = f"/help/articles/{article.pk}/"
    for q in ("热水器", "reshuiqi", "rsq", "water heater"):
        assert link in client.get("/help/", {"q": q}).content.decode(), q
    assert link not in client.get("/help/", {"q": "冰箱"}).content.decode()


def test_faq_shows_unpublished_articles_to_nobody(client, agent, article):
    draft = knowledge.article_save(
        actor=agent, data={"title_zh": "内部草稿", "body_zh": "x", "published": False}
    )
    assert "内部草稿" not in client.get("/help/").content.decode()
    assert client.get(f"/help/articles/{draft.pk}/").status_code == 404


def test_public_faq_shows_no_customer_data(client, article, owner, customer, agent):
    open_ticket(owner, customer, subject="张三家热水器")
    page = client.get("/help/", {"q": "热水器"}).content.decode()
    assert "张三" not in page and "13812345678" not in page and "138****5678" not in page


def test_did_this_solve_it_counts_a_deflection(client, article):
    client.post(f"/help/articles/{article.pk}/feedback/", {"helpful": "yes"})
    client.post(f"/help/articles/{article.pk}/feedback/", {"helpful": "no"})
    article.refresh_from_db()
    assert (article.helpful_count, article.not_helpful_count) == (1, 1)
    assert Deflection.objects.filter(helpful=True).count() == 1


def test_contact_form_creates_a_ticket_with_an_sla(client, agent, org):
    response = client.post("/help/contact/", {**form(), "altcha": solved(client)})
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert f"Your request number is {ticket.pk}" in response.content.decode()
    assert (ticket.channel, ticket.type, ticket.contact_phone) == (
        "web",
        "repair",
        "+8613900001111",
    )
    assert ticket.resolution_due_at is not None and ticket.customer is None


def test_contact_form_links_a_known_phone_to_the_customer(client, customer, agent):
    client.post("/help/contact/", {**form(phone="138 1234 5678"), "altcha": solved(client)})
    assert Ticket.objects.get().customer == customer


def test_contact_form_without_captcha_saves_nothing(client, agent):
    response = client.post("/help/contact/", form())
    assert response.status_code == 422
    assert "anti-spam check" in response.content.decode()
    assert not Ticket.objects.exists() and not PublicSubmission.objects.exists()


def test_a_forged_or_reused_captcha_is_refused(client, agent):
    payload = solved(client)
    assert client.post("/help/contact/", {**form(), "altcha": payload}).status_code == 200
    again = client.post("/help/contact/", {**form(), "altcha": payload})
    assert again.status_code == 422 and Ticket.objects.count() == 1
    forged = client.post("/help/contact/", {**form(), "altcha": payload[:-8] + "AAAAAAAA"})
    assert forged.status_code == 422 and Ticket.objects.count() == 1


def test_oversized_fields_are_refused_with_clear_errors(client, agent):
    response = client.post(
        "/help/contact/", {**form(message="长" * 2001, name="名" * 101), "altcha": solved(client)}
    )
    page = response.content.decode()
    assert response.status_code == 422 and "At most 2000 characters." in page
    assert "At most 100 characters." in page and not Ticket.objects.exists()


def test_a_hundred_submissions_a_minute_make_five_tickets(client, agent, settings):
    settings.GUANXI_CONTACT_RATE = (5, 3600)
    codes = [
        client.post("/help/contact/", {**form(), "altcha": solved(client)}).status_code
        for _ in range(100)
    ]
    assert codes.count(200) == 5 and Ticket.objects.count() == 5
    last = client.post("/help/contact/", {**form(), "altcha": solved(client)})
    assert "Too many requests" in last.content.decode()


# --- the survey ---------------------------------------------------------------------------


@pytest.fixture
def resolved(agent, owner, customer):
    ticket = open_ticket(owner, customer)
    return ticket_transition(
        actor=agent, ticket_id=ticket.pk, to_status=Status.RESOLVED, resolution="已维修"
    )


def test_survey_link_records_a_score_once(client, resolved):
    token = care.survey_token(resolved)
    assert client.get(f"/help/survey/{token}/").status_code == 200
    client.post(f"/help/survey/{token}/", {"score": "4", "comment": "师傅很专业"})
    assert Survey.objects.get(ticket=resolved).score == 4
    again = client.post(f"/help/survey/{token}/", {"score": "1"})
    assert "Thank you for your feedback" in again.content.decode()
    assert Survey.objects.get(ticket=resolved).score == 4


@pytest.mark.parametrize("token", ["nonsense", "eyJ0IjoxfQ:1tXyz:abc", "x" * 600])
def test_invalid_survey_tokens_are_a_clear_error(client, resolved, token):
    response = client.get(f"/help/survey/{token}/")
    assert response.status_code == 400
    assert "This survey link is not valid." in response.content.decode()


def test_survey_score_must_be_one_to_five(client, resolved):
    token = care.survey_token(resolved)
    response = client.post(f"/help/survey/{token}/", {"score": "9"})
    assert response.status_code == 422 and not Survey.objects.exists()


def test_a_reopened_tickets_old_link_no_longer_works(client, resolved, agent):
    token = care.survey_token(resolved)
    ticket_transition(actor=agent, ticket_id=resolved.pk, to_status=Status.IN_PROGRESS)
    assert client.get(f"/help/survey/{token}/").status_code == 400


def test_contact_form_keeps_a_switchboard_extension_whole(client, agent):
    """Issue 13 item 6: a phone with an extension is stored whole, never cut at 20 characters."""
    client.post("/help/contact/", {**form(phone="010-8888 6666 转 801"), "altcha": solved(client)})
    assert Ticket.objects.get().contact_phone == "+861088886666;ext=801"


def test_ticket_page_shows_a_switchboard_number_as_people_dial_it(client, agent):
    client.post("/help/contact/", {**form(phone="010-8888 6666 转 801"), "altcha": solved(client)})
    client.force_login(agent)
    page = client.get(Ticket.objects.get().get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    shown = page.content.decode()
    assert "010-8888 6666 转 801" in shown and ";ext=" not in shown and "+86" not in shown
