# ruff: noqa: E501 (the sentences are read whole)
"""SPEC (help where people need it): on an empty database every list page says in words what
to do next, in the reader's language, with a button to that action where the reader may take
it — and none where the role may not (a salesperson is not offered the duty roster, finance
is not offered a deal). One shared include draws them all (core/partials/empty_state.html)."""

import html as htmllib
import re

import pytest
from django.utils import translation
from django.utils.translation import gettext

from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401

HAN = re.compile(r"[\u4e00-\u9fff]")

# (who, page, the sentence, the action's link or None)
CASES = [
    (
        "outsider",
        "/customers/",
        "No customers yet. Add your first customer, or import a spreadsheet of them from the Import page.",
        "/customers/new/",
    ),
    (
        "outsider",
        "/customers/?stage=deal",
        "No customers match these filters. Clear a filter or search for fewer words; a customer not in the list yet can be added.",
        "/customers/new/",
    ),
    (
        "outsider",
        "/my-day/",
        "Nothing else due today. Plan each customer's next follow-up when you log a call or visit on their page, and it shows here on its day.",
        "/customers/",
    ),
    (
        "receptionist",
        "/reception/register/",
        "Nobody registered on this day. Each visitor or call taken at the front desk is written here.",
        "/reception/",
    ),
    (
        "outsider",
        "/reception/",
        "No queue for today yet. Ask the front desk or a sales manager to set today's duty roster.",
        None,
    ),
    (
        "receptionist",
        "/reception/",
        "No queue for today yet. Set today's duty roster: who is on duty, in which order.",
        "/reception/roster/",
    ),
    (
        "outsider",
        "/reception/pool/",
        "The pool is empty: nothing to claim now. A customer comes here when their protection ends without a documented contact; claim one then to follow it up.",
        None,
    ),
    (
        "outsider",
        "/sales/",
        "No deals yet. Open a deal for a customer who is ready to talk about a unit: it starts in the first stage and moves along as they decide.",
        "/sales/new/",
    ),
    (
        "outsider",
        "/sales/?mine=1",
        "You have no deals of your own yet. Show everyone's deals, or open one for a customer of yours.",
        "/sales/new/",
    ),
    (
        "finance",
        "/sales/finance/",
        "Nothing expected. Instalments appear here, the earliest due first, once a salesperson gives a deal a deposit or a payment plan; you record each payment from here.",
        None,
    ),
    (
        "service_agent",
        "/service/",
        "No tickets here. A ticket opens when a customer writes to the help centre, or when you press New ticket on a customer's page or a register entry; choose All if a filter hides them.",
        None,
    ),
    (
        "service_agent",
        "/service/kb/",
        "No articles yet. Write the answer to a question customers often ask; published, it shows in the public help centre too.",
        "/service/kb/new/",
    ),
    (
        "service_agent",
        "/service/kb/?q=xyz",
        "No articles match these words. Try fewer words, or pinyin.",
        None,
    ),
    (
        "owner",
        "/loyalty/customers/{customer}/",
        "No points yet. Points are earned when a payment on this customer's deal is recorded; they can then be redeemed for a reward here.",
        None,
    ),
    (
        "manager",
        "/insights/churn/",
        "Nobody on the list: nothing needs you now. A customer is put here when they have gone much longer than usual without buying; call them then and note what you decided.",
        None,
    ),
    (
        "marketer",
        "/marketing/",
        "No campaigns yet. A campaign sends a template to a segment, now or at a set time; make a segment first.",
        "/marketing/campaigns/new/",
    ),
    (
        "marketer",
        "/marketing/",
        "No segments yet. A segment is a group of customers chosen by rules (stage, tag, last purchase…), kept up to date by itself.",
        "/marketing/segments/new/",
    ),
    (
        "manager",
        "/imports/",
        "No imports yet. Choose a CSV or Excel file above and press Upload; you check how its columns are read before anything is written.",
        "#file",
    ),
    (
        "outsider",
        "/notifications/",
        "No notifications yet. When a visitor is assigned to you, a discount is decided or customers move, you will see it here.",
        None,
    ),
    (
        "admin_user",
        "/audit/?actor={finance}",
        "No entries match these filters. Widen the dates or clear the filters.",
        "/audit/",
    ),
]


def _empty_states(page: str) -> list[str]:
    """The text and links of every empty state on a page, unescaped."""
    return [
        htmllib.unescape(chunk.split("</div>", 1)[0])
        for chunk in page.split("data-empty-state")[1:]
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_empty_list_says_what_to_do_next(request, client, settings, customer, language):
    settings.LANGUAGE_CODE = language
    ids = {name: request.getfixturevalue(name).pk for name in ("customer", "finance")}
    failures = []
    for who, url, sentence, action in CASES:
        client.force_login(request.getfixturevalue(who))
        url = url.format(**ids)
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        with translation.override(language):
            expected = gettext(sentence)
        if language == "zh-hans" and not HAN.search(expected):
            failures.append(f"{url}: not translated: {sentence}")
            continue
        found = [s for s in _empty_states(response.content.decode()) if expected in s]
        if response.status_code != 200 or not found:
            failures.append(f"{url} as {who}: {response.status_code}, no empty state {expected!r}")
            continue
        if action and f'href="{action}" data-empty-action' not in found[0]:
            failures.append(f"{url} as {who}: no action {action} in {found[0]!r}")
        if not action and "data-empty-action" in found[0]:
            failures.append(f"{url} as {who}: an action the role may not take: {found[0]!r}")
    assert not failures, "\n".join(failures)
