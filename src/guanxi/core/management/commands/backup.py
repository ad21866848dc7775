"""`guanxi backup [--output PATH]`: a consistent online backup while the server runs."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from guanxi.core.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up the database while Guanxi runs (SQLite online backup API, or pg_dump). "
        "Default: var/backups/guanxi-<timestamp>.sqlite3 (or .dump)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", type=Path, help="Where to write the backup.")

    def handle(self, *args, output: Path | None, **options):
        try:
            result = backup(output)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{result.path}  ({result.engine}, {result.size:,} bytes)")
