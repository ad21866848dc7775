"""How the background processes are doing, for the admin home (C8: `guanxi serve`
supervises the worker and the scheduler and writes their state every 2 s)."""

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.utils.translation import gettext_lazy as _

STALE_AFTER = 15  # seconds: a health file older than this means `guanxi serve` is not running

NAMES = {"worker": _("Background worker"), "scheduler": _("Scheduler")}


@dataclass
class ProcessHealth:
    name: str
    label: str
    running: bool
    restarts: int
    last_exit: int | None
    last_exit_at: datetime | None
    restart_in: int | None  # seconds until the next restart, while waiting for it


def _moment(stamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(stamp, UTC) if stamp else None


def worker_health() -> list[ProcessHealth] | None:
    """The supervised processes of `guanxi serve`, or None when it is not what runs this
    site (no recent health file: another supervisor, or the worker started on its own)."""
    path = settings.VAR_DIR / "serve-health.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    now = time.time()
    if now - float(data.get("at", 0)) > STALE_AFTER:
        return None
    found = []
    for child in data.get("children", []):
        restart_at = child.get("restart_at")
        found.append(
            ProcessHealth(
                name=child["name"],
                label=str(NAMES.get(child["name"], child["name"])),
                running=bool(child.get("running")),
                restarts=int(child.get("restarts") or 0),
                last_exit=child.get("last_exit"),
                last_exit_at=_moment(child.get("last_exit_at")),
                restart_in=max(0, round(restart_at - now)) if restart_at else None,
            )
        )
    return found
