"""`guanxi restore PATH --yes`: bring a backup back, replacing the database's contents."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from guanxi.core.backup import BackupError, engine_of, restore


class Command(BaseCommand):
    help = (
        "Restore the database from a backup made by `guanxi backup`. Everything written since "
        "that backup is lost. Stop the web server and worker first."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--yes", action="store_true", help="Confirm: replace the current database."
        )

    def handle(self, *args, path: Path, yes: bool, **options):
        if not yes:
            raise CommandError(
                "Restoring replaces every record in the database with the backup's. "
                "Run again with --yes to confirm."
            )
        try:
            restore(path)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Restored {path} into the {engine_of()} database.")
