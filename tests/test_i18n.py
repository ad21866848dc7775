"""Chinese first: the zh-Hans and en catalogues are complete, compiled, and used by the pages.

The .po files are read by a small reader below (no polib); the .mo files by the stdlib.
"""

import ast
import gettext
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command

import guanxi
from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401

LOCALE_DIR = Path(guanxi.__file__).resolve().parent / "locale"
LANGUAGES = {"zh_Hans": 1, "en": 2}  # locale directory: number of plural forms


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str]:
        return self.msgctxt, self.msgid


def read_po(path: Path) -> list[Entry]:
    """Every entry of a .po file, the header (msgid "") first."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int | None] | None = None
    keyword = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")$')

    def append(name: str, index: int | None, text: str) -> None:
        if name == "msgstr":
            entry.msgstr[index or 0] = entry.msgstr.get(index or 0, "") + text
        else:
            setattr(entry, name, (getattr(entry, name) or "") + text)

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            entry, target = None, None
            continue
        if line.startswith("#,"):
            if entry is None or entry.msgstr:
                entry = Entry(number)
                entries.append(entry)
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        match = keyword.match(line)
        if match:
            name, index, literal = match.group(1), match.group(2), match.group(3)
            if name in ("msgid", "msgctxt") and (entry is None or entry.msgstr):
                entry = Entry(number)
                entries.append(entry)
            target = (name, int(index) if index is not None else None)
            append(*target, ast.literal_eval(literal))
            entry.obsolete |= obsolete
        elif line.startswith('"') and target is not None:
            append(*target, ast.literal_eval(line))
        else:
            raise AssertionError(f"{path}:{number}: cannot read {raw!r}")
    return entries


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_complete_and_not_fuzzy(language):
    entries = read_po(po_path(language))
    header, messages = entries[0], entries[1:]
    assert header.msgid == "" and "fuzzy" not in header.flags
    assert f"nplurals={LANGUAGES[language]};" in header.msgstr[0]
    assert len(messages) > 500
    problems = []
    for e in messages:
        forms = LANGUAGES[language] if e.msgid_plural is not None else 1
        if "fuzzy" in e.flags:
            problems.append(f"line {e.line}: fuzzy {e.msgid!r}")
        if e.obsolete:
            problems.append(f"line {e.line}: obsolete {e.msgid!r}")
        if sorted(e.msgstr) != list(range(forms)) or not all(e.msgstr.values()):
            problems.append(f"line {e.line}: untranslated {e.msgid!r}")
    keys = [e.key for e in messages]
    assert len(keys) == len(set(keys)), "duplicate msgids"
    assert not problems, "\n".join(problems)


def test_chinese_is_really_chinese_and_english_is_the_source():
    zh = {e.key: e for e in read_po(po_path("zh_Hans"))[1:]}
    en = {e.key: e for e in read_po(po_path("en"))[1:]}
    assert zh.keys() == en.keys(), "the two catalogues have different messages"
    han = re.compile(r"[\u4e00-\u9fff]")
    same_in_chinese = {"—"}
    untranslated = [
        k for k, e in zh.items() if not han.search(e.msgstr[0]) and k[1] not in same_in_chinese
    ]
    assert not untranslated, f"zh_Hans messages without Chinese: {untranslated}"
    for e in en.values():
        expected = [e.msgid] if e.msgid_plural is None else [e.msgid, e.msgid_plural]
        assert [e.msgstr[i] for i in range(len(expected))] == expected


def test_placeholders_survive_translation():
    placeholder = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|%%|\{[a-z_]+\}")
    for e in read_po(po_path("zh_Hans"))[1:]:
        if "python-format" in e.flags or "python-brace-format" in e.flags:
            wanted = sorted(placeholder.findall(e.msgid_plural or e.msgid))
            assert sorted(placeholder.findall(e.msgstr[0])) == wanted, e.msgid


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_the_po(language):
    """The .mo in the repository holds exactly the .po's translations (not an older state)."""
    path = po_path(language)
    with path.with_suffix(".mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    messages = read_po(path)[1:]
    stale = []
    for e in messages:
        key = e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}"
        if e.msgid_plural is None:
            got, want = compiled.gettext(key), e.msgstr[0]
        else:
            counts = (1,) if LANGUAGES[language] == 1 else (1, 2)
            got = [compiled.ngettext(key, e.msgid_plural, n) for n in counts]
            want = [e.msgstr[i] for i in range(len(counts))]
        if got != want:
            stale.append(e.msgid)
    assert len(compiled._catalog) - 1 == sum(  # the header is the extra entry
        LANGUAGES[language] if e.msgid_plural is not None else 1 for e in messages
    ), "the .mo has other messages than the .po: run `guanxi compilemessages`"
    assert not stale, f"the .mo is older than the .po for: {stale[:10]}"


NAV_CUSTOMERS = re.compile(r'class="nav-link[^"]*"[^>]*href="/customers/"[^>]*>([^<]+)</a>')


@pytest.mark.django_db
def test_pages_speak_chinese_by_default(client, owner, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(owner)
    response = client.get("/customers/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert NAV_CUSTOMERS.search(html).group(1) == "客户"
    assert 'aria-label="搜索客户"' in html and "Search customers" not in html


@pytest.mark.django_db
def test_language_cookie_switches_to_english(client, owner, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/customers/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="en">' in html
    assert NAV_CUSTOMERS.search(html).group(1) == "Customers"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext")
def test_every_source_string_is_in_the_catalogue(tmp_path, settings, monkeypatch):
    """makemessages on a copy of the source: nothing it finds may be missing from the .po."""
    source = LOCALE_DIR.parent
    copy = tmp_path / "guanxi"
    shutil.copytree(
        source, copy, ignore=shutil.ignore_patterns("locale", "static", "__pycache__", "*.pyc")
    )
    (copy / "locale").mkdir()
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["zh_Hans"], verbosity=0)
    extracted = {e.key: e for e in read_po(copy / "locale/zh_Hans/LC_MESSAGES/django.po")[1:]}
    catalogue = {e.key for e in read_po(po_path("zh_Hans"))[1:]}
    missing = [f"{k[1]!r}" for k in extracted if k not in catalogue]
    assert not missing, (
        "not in the catalogue (run `guanxi makemessages -l zh_Hans -l en --no-obsolete` in "
        "src/guanxi, translate, then `guanxi compilemessages`): " + ", ".join(missing)
    )
