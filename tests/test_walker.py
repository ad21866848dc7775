"""SPEC (Chinese first, no raw codes): a walker logs in as each role of the demo, follows
every link it finds (one or two pages per route), in Chinese and in English, and fails on
a page that errors, shows an English catalogue message in the Chinese UI (or a Chinese one
in the English UI), shows an untranslated English sentence in the Chinese UI, or shows a
known raw-code pattern: a verb code (`payment.record`), a field code (`owner_id`), a
Python repr (`[None, …]`, `{'4': …}`), an exception (`ConnectError`, `[Errno 111]`)."""

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.urls import Resolver404, resolve

from guanxi.core.models import User
from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401
from tests.test_i18n import po_path, read_po

ROLES = ["admin", "manager", "sales1", "reception", "finance", "service", "marketer"]
PER_ROUTE = 2
MAX_PAGES = 80
# Links the walker does not follow: actions, downloads, the admin and the API's own docs.
SKIP = re.compile(r"^/(logout|i18n|admin|api|static)/|\.(pdf|ics|csv|xlsx)$|/export|/calendar/feed")
EXTRA = [
    "/no-such-page/",
    "/search/?q=zw",
    "/search/?q=1111",
    "/search/?q=%E4%B8%8D%E5%AD%98%E5%9C%A8",
]

VERB_PREFIXES = (
    "customer|customers|visit|deal|quote|payment|roster|dispute|webhook|user|token|import|"
    "order|product|units|cadence|reception|notification|ticket|points|campaign"
)
RAW_PATTERNS = [
    ("verb code", re.compile(rf"\b(?:{VERB_PREFIXES})\.[a-z_]+[a-z]\b")),
    ("field code", re.compile(r"\b[a-z]+(?:_[a-z]+)*_(?:id|at|pct|key)\b")),
    ("snake_case code", re.compile(r"(?<![\w./@-])[a-z]{2,}_[a-z]{2,}(?:_[a-z]+)*(?![\w./@-])")),
    ("python repr", re.compile(r"\[None\b|\bNone\]|\{'|'\d+':|<bound |object at 0x|Decimal\(")),
    ("exception", re.compile(r"\b(?:ConnectError|Traceback|\[Errno \d+\]|[A-Z]\w+Error:)")),
    ("bare None", re.compile(r"(?<![\w-])None(?![\w-])")),
]
# Three or more English words: a sentence a Chinese reader should not meet.
ENGLISH_SENTENCE = re.compile(r"^[A-Z]?[a-z]+(?:[ ,'’-]+[a-z]+){2,}[.!?:]?$")
BRAND = {"Guanxi", "关系"}  # the product's name, in both scripts, in the header
HAN = re.compile(r"[\u4e00-\u9fff]")


class _Text(HTMLParser):
    """Visible text nodes and the labels users read (placeholder, aria-label, alt), without
    <script>, <style> and <code>/<pre>/<kbd> (where technical text is the point)."""

    SKIP_TAGS = {"script", "style", "code", "pre", "kbd", "template"}

    def __init__(self, language: str = ""):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._skip = 0
        self._language = language
        # An element marked as another language (the English user guide: lang="en") is
        # that language on purpose: its text is not checked, its links are still followed.
        self._other: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if (self._other and tag == self._other[0]) or (
            not self._other
            and tag != "html"
            and attrs.get("lang")
            and self._language
            and not attrs["lang"].startswith(self._language[:2])
        ):
            self._other.append(tag)
        if tag in self.SKIP_TAGS:
            self._skip += 1
        for name in ("placeholder", "aria-label", "alt"):
            if attrs.get(name) and not self._other:
                self.texts.append(attrs[name])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag in self.SKIP_TAGS and self._skip:
            self._skip -= 1
        if self._other and tag == self._other[0]:
            self._other.pop()

    def handle_data(self, data):
        if not self._skip and not self._other and data.strip():
            self.texts.append(" ".join(data.split()))


def _catalogue():
    """English source messages that have a different Chinese translation, and the reverse."""
    zh = {e.key: e.msgstr.get(0, "") for e in read_po(po_path("zh_Hans"))[1:]}
    english = {
        msgid
        for (_ctx, msgid), text in zh.items()
        if text
        and text != msgid
        and "%" not in msgid
        and "{" not in msgid
        and len(msgid) > 3
        and re.search(r"[a-z]{3}", msgid)
    }
    chinese = {
        text
        for (_ctx, msgid), text in zh.items()
        if HAN.search(text) and "%" not in text and len(text) > 1 and text != msgid
    }
    return english, chinese


@pytest.fixture(scope="module")
def catalogue():
    return _catalogue()


@pytest.fixture
def demo(db, settings):
    call_command("demo_data", customers=80, verbosity=0)
    return {u.username: u for u in User.objects.all()}


def _route(path: str):
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.route


def _problems(
    text: str, language: str, english: set[str], chinese: set[str], data: set[str]
) -> list[str]:
    found = []
    for label, pattern in RAW_PATTERNS:
        match = pattern.search(text)
        if match and match.group(0) not in data:
            found.append(f"{label} {match.group(0)!r} in {text[:80]!r}")
    if language == "zh-hans":
        if text in english and text not in BRAND:
            found.append(f"English catalogue message {text!r}")
        elif ENGLISH_SENTENCE.match(text) and not HAN.search(text):
            found.append(f"English sentence {text!r}")
    elif text in chinese and text not in BRAND and len(text) > 3:  # 总部: also a unit's name
        found.append(f"Chinese catalogue message {text!r}")
    return found


def walk(client, language: str, english, chinese, data) -> tuple[int, dict[str, list[str]]]:
    seen_routes: dict[str, int] = {}
    visited: set[str] = set()
    queue = deque(["/", *EXTRA])
    report: dict[str, list[str]] = {}
    pages = 0
    while queue and pages < MAX_PAGES:
        url = queue.popleft()
        if url in visited:
            continue
        visited.add(url)
        route = _route(urlsplit(url).path)
        key = route if route is not None else url
        if seen_routes.get(key, 0) >= PER_ROUTE and url not in EXTRA:
            continue
        seen_routes[key] = seen_routes.get(key, 0) + 1
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        pages += 1
        if response.status_code >= 500 or (
            response.status_code == 404 and url not in EXTRA and route is not None
        ):
            report[url] = [f"HTTP {response.status_code}"]
            continue
        if response.status_code != 200 and not (response.status_code == 404 and url in EXTRA):
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue
        parser = _Text(language)
        parser.feed(response.content.decode())
        problems = [p for t in parser.texts for p in _problems(t, language, english, chinese, data)]
        if problems:
            report[url] = sorted(set(problems))
        for href in parser.links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            if SKIP.search(parts.path):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in visited:
                queue.append(target)
    return pages, report


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_every_page_speaks_the_readers_language_without_raw_codes(
    client, demo, catalogue, settings, role, language
):
    settings.LANGUAGE_CODE = language
    client.force_login(demo[role])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    english, chinese = catalogue
    # Logins such as manager_sh are data a page may show, not codes.
    usernames = set(demo)
    pages, report = walk(client, language, english, chinese, usernames)
    assert pages >= 12, f"the walker reached only {pages} pages"
    assert not report, "\n".join(f"{url}: {'; '.join(p)}" for url, p in report.items())


@pytest.mark.parametrize(
    "text",
    [
        "payment.record",
        "customer.reassign 肖佳",
        "owner_id: [4, 3]",
        "[None, '20000.00']",
        "{'4': '100'}",
        "ConnectError: [Errno 111] Connection refused",
        "small_deposit",
        "The requested resource was not found on this server.",
    ],
)
def test_walker_recognises_the_raw_codes_users_saw(catalogue, text):
    english, chinese = catalogue
    assert _problems(text, "zh-hans", english, chinese, set())


@pytest.mark.parametrize("text", ["张伟", "¥2,670,000.00", "fang.w@example.cn", "JXHT-1-1202"])
def test_walker_accepts_data_and_chinese(catalogue, text):
    english, chinese = catalogue
    assert not _problems(text, "zh-hans", english, chinese, set())


def test_walker_flags_chinese_catalogue_text_in_english(catalogue):
    english, chinese = catalogue
    assert _problems("客户已重新分配", "en", english, chinese, set())
