"""The `guanxi` command: Django's management commands plus the operator's verbs.

guanxi serve [--bind 127.0.0.1:8000]   web server (gunicorn) and background worker together
guanxi worker                          background worker only (django-tasks database backend)
guanxi demo-data --customers N         demo organisation, users and customers
guanxi import FILE [--skip-bad-rows]   import customers from CSV/Excel, with a progress bar
guanxi backup / restore PATH --yes     consistent online backup of the database, and back
guanxi <any manage.py command>         migrate, createsuperuser, check --deploy, …
"""

import contextlib
import os
import signal
import subprocess
import sys

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


def serve(args: list[str]) -> int:
    """Run gunicorn, the worker and the scheduler together; Ctrl-C (or one dying) stops all."""
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
    worker = subprocess.Popen([sys.executable, "-m", "guanxi.cli", "worker"])
    scheduler = subprocess.Popen([sys.executable, "-m", "guanxi.cli", "scheduler"])
    children = [web, worker, scheduler]

    def stop(*_):
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while all(child.poll() is None for child in children):
            with contextlib.suppress(subprocess.TimeoutExpired):
                children[0].wait(timeout=1)
    finally:
        stop()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    return web.returncode or 0


if __name__ == "__main__":
    main()
