"""The `guanxi` command: Django's management commands plus the operator's verbs.

guanxi serve [--bind 127.0.0.1:8000]   web server (gunicorn) and background worker together
guanxi worker                          background worker only (django-tasks database backend)
guanxi demo-data --customers N         demo organisation, users and customers
guanxi import FILE [--skip-bad-rows]   import customers from CSV/Excel, with a progress bar
guanxi backup / restore PATH --yes     consistent online backup of the database, and back
guanxi <any manage.py command>         migrate, createsuperuser, check --deploy, …
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ALIASES = {"demo-data": "demo_data", "worker": "db_worker", "import": "import_data"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    args = sys.argv[1:]
    if args and args[0] == "serve":
        sys.exit(serve(args[1:]))
    if args and args[0] in ALIASES:
        args[0] = ALIASES[args[0]]
    from django.core.management import execute_from_command_line

    execute_from_command_line(["guanxi", *args])


RESTART_BACKOFF = (1, 2, 4, 8, 16, 30, 60)  # seconds before the 1st, 2nd, … restart
HEALTHY_AFTER = 60  # a child that ran this long starts again from the first backoff
HEALTH_EVERY = 2  # seconds between writes of the health file the admin home reads


def _log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"[{stamp}] guanxi serve: {message}", file=sys.stderr, flush=True)


class Supervised:
    """A background process `guanxi serve` keeps running: restarted when it exits, after a
    backoff that grows while it keeps crashing."""

    def __init__(self, name: str, command: list[str]):
        self.name, self.command = name, command
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self.failures = 0  # crashes in a row
        self.started_at = 0.0
        self.restart_at: float | None = None
        self.last_exit: int | None = None
        self.last_exit_at: float | None = None
        self.pid_was: int | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command)
        self.started_at = time.time()
        self.restart_at = None

    def check(self, stopping: bool) -> None:
        if self.process is not None and self.process.poll() is not None:
            self.last_exit, self.last_exit_at = self.process.returncode, time.time()
            self.process = None
            if stopping:
                return
            ran = self.last_exit_at - self.started_at
            self.failures = 0 if ran >= HEALTHY_AFTER else self.failures + 1
            delay = RESTART_BACKOFF[min(self.failures, len(RESTART_BACKOFF) - 1)]
            self.restart_at = time.time() + delay
            _log(
                f"the {self.name} (pid {self.pid_was}) exited with code {self.last_exit} after "
                f"{ran:.0f} s; restarting it in {delay} s"
            )
        due = self.restart_at is not None and time.time() >= self.restart_at
        if self.process is None and due and not stopping:
            self.restarts += 1
            self.start()
            assert self.process is not None
            _log(f"the {self.name} is running again (pid {self.process.pid})")
        if self.process is not None:
            self.pid_was = self.process.pid

    def state(self) -> dict:
        return {
            "name": self.name,
            "running": self.process is not None and self.process.poll() is None,
            "pid": self.process.pid if self.process else None,
            "since": self.started_at if self.process else None,
            "restarts": self.restarts,
            "last_exit": self.last_exit,
            "last_exit_at": self.last_exit_at,
            "restart_at": self.restart_at,
        }


def health_path() -> Path:
    """Where `guanxi serve` writes the state of its processes (core.health reads it)."""
    home = Path(os.environ.get("GUANXI_HOME", Path(__file__).resolve().parent.parent.parent))
    return Path(os.environ.get("GUANXI_VAR_DIR", home.resolve() / "var")) / "serve-health.json"


def _write_health(children: list[Supervised]) -> None:
    path = health_path()
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_text(
            json.dumps(
                {"pid": os.getpid(), "at": time.time(), "children": [c.state() for c in children]}
            )
        )
        os.replace(partial, path)


def serve(args: list[str]) -> int:
    """Run gunicorn, the worker and the scheduler together. The worker and the scheduler are
    supervised: one that dies is started again (with a growing backoff and a log line) while
    the web server stays up. Ctrl-C, SIGTERM or the web server's own end stop everything."""
    bind = "127.0.0.1:8000"
    if "--bind" in args:
        bind = args[args.index("--bind") + 1]
    workers = os.environ.get("WEB_WORKERS", "3")
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "guanxi.wsgi:application",
            "--bind",
            bind,
            "--workers",
            workers,
            "--threads",
            os.environ.get("WEB_THREADS", "4"),
            "--access-logfile",
            "-" if os.environ.get("ACCESS_LOG") else "/dev/null",
        ]
    )
    children = [
        Supervised("worker", [sys.executable, "-m", "guanxi.cli", "worker"]),
        Supervised("scheduler", [sys.executable, "-m", "guanxi.cli", "scheduler"]),
    ]
    for child in children:
        child.start()
        assert child.process is not None
        child.pid_was = child.process.pid
    _write_health(children)
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    last_health = 0.0
    try:
        while not stopping and web.poll() is None:
            for child in children:
                child.check(stopping)
            if time.monotonic() - last_health >= HEALTH_EVERY:
                _write_health(children)
                last_health = time.monotonic()
            with contextlib.suppress(subprocess.TimeoutExpired):
                web.wait(timeout=0.5)
        if web.poll() is not None and not stopping:
            _log(f"the web server exited with code {web.returncode}; stopping")
    finally:
        stopping = True
        running = [web] + [c.process for c in children if c.process is not None]
        for process in running:
            if process.poll() is None:
                process.terminate()
        for process in running:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        with contextlib.suppress(OSError):
            health_path().unlink()
    return web.returncode or 0


if __name__ == "__main__":
    main()
