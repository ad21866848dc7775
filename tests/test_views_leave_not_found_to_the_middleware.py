"""Views as thin as the API (issue #10 item 5): a record the user may not see, or that does
not exist, becomes the 404 page in one place (core.middleware.DomainErrorMiddleware), not
in a `try/except NotFound: raise Http404` per view."""

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "guanxi"
PER_VIEW_MAPPING = re.compile(r"except NotFound(?: as \w+)?:\n\s+raise Http404\b")


def per_view_mappings(root: Path = SRC) -> list[str]:
    return [
        str(path.relative_to(root))
        for path in sorted(root.rglob("*.py"))
        if PER_VIEW_MAPPING.search(path.read_text(encoding="utf-8"))
    ]


def test_no_view_maps_not_found_to_404_by_hand():
    assert per_view_mappings() == []


def test_the_scan_finds_a_hand_written_mapping(tmp_path):
    (tmp_path / "views.py").write_text(
        "def view(request, pk):\n    try:\n        get(pk)\n"
        "    except NotFound as exc:\n        raise Http404 from exc\n"
    )
    assert per_view_mappings(tmp_path) == ["views.py"]
