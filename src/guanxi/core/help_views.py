"""The user guide inside the app (/guide/): docs/user-guide.md of this installation, rendered
with markdown-it (HTML in the source is not passed through)."""

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.safestring import mark_safe

GUIDE = Path(settings.BASE_DIR).parents[1] / "docs" / "user-guide.md"


@lru_cache(maxsize=4)
def _rendered(path: Path, mtime: float) -> str:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    return md.render(path.read_text(encoding="utf-8"))


@login_required
def help_view(request):
    if not GUIDE.exists():
        raise Http404
    html = _rendered(GUIDE, GUIDE.stat().st_mtime)
    # Safe: markdown-it escapes any HTML in the guide ("html": False above).
    return render(request, "core/help.html", {"guide": mark_safe(html)})
