"""`guanxi import FILE`: import customers (or interactions) in the foreground, with a
progress bar. The same job, checks and outcome as an import from the web page."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from guanxi.core.errors import DomainError
from guanxi.core.models import Role, User
from guanxi.transfer.fields import IGNORE, targets_for
from guanxi.transfer.jobs import import_run
from guanxi.transfer.models import ImportJob
from guanxi.transfer.runner import error_report_path
from guanxi.transfer.services import import_configure, import_upload_path, same_file_jobs


class Command(BaseCommand):
    help = (
        "Import a CSV (UTF-8 or GBK) or Excel file of customers or interactions. Columns are "
        "mapped from their headers (your remembered mapping first); all-or-nothing unless "
        "--skip-bad-rows. Re-importing a file never creates a customer twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--kind", choices=ImportJob.Kind.values, default=ImportJob.Kind.CUSTOMERS
        )
        parser.add_argument(
            "--skip-bad-rows", action="store_true", help="Import the good rows, report the bad."
        )
        dup = parser.add_mutually_exclusive_group()
        dup.add_argument("--update", action="store_true", help="Update customers already here.")
        dup.add_argument(
            "--skip-duplicates", action="store_true", help="Leave them as they are (default)."
        )
        parser.add_argument("--owner", help="Username who owns the new customers.")
        parser.add_argument(
            "--owner-column", action="store_true", help="Owners from the file's owner column."
        )
        parser.add_argument(
            "--rotation", action="store_true", help="Share new customers out by rotation."
        )
        parser.add_argument(
            "--as",
            dest="actor",
            help="Import as this user (an admin or manager). Default: the first active admin.",
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help="Override one column's mapping (FIELD 'ignore' skips it). Repeatable.",
        )
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument(
            "--nobody-else-working",
            action="store_true",
            help="A big first load may drop the customer indexes and build them at the end "
            "(faster; colleagues' saves would crawl meanwhile).",
        )
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")

    def handle(self, *args, **options):
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        actor = self._actor(options["actor"])
        console = Console(file=self.stdout._out, stderr=False, soft_wrap=True)
        try:
            job = import_upload_path(actor=actor, path=path, kind=options["kind"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        mapping = dict(job.mapping)
        targets = {t.key for t in targets_for(job.kind)} | {IGNORE}
        for item in options["map"]:
            header, _sep, field = item.partition("=")
            if field not in targets:
                raise CommandError(f"Unknown field {field!r}; one of: {', '.join(sorted(targets))}")
            matches = [str(i) for i, h in enumerate(job.headers) if h == header]
            if not matches:
                raise CommandError(f"No column headed {header!r}.")
            for index in matches:
                mapping[index] = field
        owner_mode, owner_id = "none", None
        if options["owner"]:
            owner = User.objects.filter(username=options["owner"]).first()
            if owner is None:
                raise CommandError(f"No user {options['owner']!r}.")
            owner_id, owner_mode = owner.pk, "fixed"
        if options["owner_column"]:
            owner_mode = "column"
        if options["rotation"]:
            owner_mode = "rotation"
        run_options = {
            "mode": "skip_bad" if options["skip_bad_rows"] else "all",
            "duplicates": "update" if options["update"] else "skip",
            "owner_mode": owner_mode,
            "owner_id": owner_id,
            "batch_size": options["batch_size"],
            "defer_indexes": options["nobody_else_working"],
        }
        if not options["quiet"]:
            self._show_mapping(console, job, mapping)
            earlier = same_file_jobs(job).first()
            if earlier:
                console.print(
                    f"This file was imported before (#{earlier.pk}, "
                    f"{earlier.created_at:%Y-%m-%d %H:%M}): existing customers are "
                    + ("updated." if options["update"] else "skipped.")
                )
        try:
            job = import_configure(
                actor=actor, job_id=job.pk, mapping=mapping, options=run_options, start=False
            )
        except DomainError as exc:
            raise CommandError("; ".join(e.message for e in exc.errors) or exc.message) from exc
        ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED)
        job = self._run(job, console, quiet=options["quiet"])
        self._report(console, job)
        if job.state != ImportJob.State.SUCCEEDED:
            sys.exit(1)

    def _actor(self, username: str | None) -> User:
        if username:
            actor = User.objects.filter(username=username, is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user {username!r}.")
            return actor
        actor = (
            User.objects.filter(is_active=True).filter(is_superuser=True).order_by("id").first()
            or User.objects.filter(is_active=True, roles__role=Role.ADMIN).order_by("id").first()
        )
        if actor is None:
            raise CommandError("No active administrator; name one with --as USERNAME.")
        return actor

    def _show_mapping(self, console: Console, job: ImportJob, mapping: dict) -> None:
        labels = {t.key: str(t.label) for t in targets_for(job.kind)}
        table = Table(title=f"{job.file_name} — header on line {job.header_line}")
        table.add_column("Column")
        table.add_column("Imported into")
        for index, header in enumerate(job.headers):
            target = mapping.get(str(index), IGNORE)
            table.add_row(header or "—", labels.get(target, "(not imported)"))
        console.print(table)

    def _run(self, job: ImportJob, console: Console, quiet: bool) -> ImportJob:
        if quiet:
            return import_run(job_id=job.pk)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task("Importing", total=1.0, detail="")

            def on_progress(data: dict) -> None:
                detail = (
                    f"{data.get('total', 0):,} rows read, {data.get('errors', 0):,} bad, "
                    f"{data.get('written', 0):,} written"
                )
                if data["state"] == "finishing":
                    detail += " — rebuilding indexes, saving"
                bar.update(task, completed=data["fraction"], detail=detail)
                console.file.flush()

            return import_run(job_id=job.pk, on_progress=on_progress)

    def _report(self, console: Console, job: ImportJob) -> None:
        console.print(
            f"Import #{job.pk}: {job.get_state_display()} — rows {job.total_rows:,}, "
            f"created {job.created_count:,}, updated {job.updated_count:,}, "
            f"unchanged {job.unchanged_count:,}, skipped {job.skipped_count:,}, "
            f"errors {job.error_count:,}, empty {job.empty_rows:,}"
        )
        if job.message:
            console.print(job.message)
        for error in job.errors_preview[:20]:
            console.print(f"  line {error['line']}: {error['column']}: {error['message']}")
        if job.error_count:
            console.print(f"Every error: {error_report_path(job)}")
