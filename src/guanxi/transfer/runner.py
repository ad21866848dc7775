"""Running an import job, whatever it imports: the file read in chunks and checked (in
forked checking processes for big files), rows written batch by batch or, all-or-nothing,
in short steps into a hidden load published at the end; the progress file and its
heartbeat; the error report. What a row means and where it goes is the importer's:
`customer_import.CustomerImport` and `interactions.InteractionImport`.
"""

import contextlib
import csv
import gc
import itertools
import json
import multiprocessing
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.core.audit import audit_record
from guanxi.core.bulkload import (
    build_indexes,
)
from guanxi.core.webhooks import webhook_emit

from . import clean
from .clean import CellError
from .fields import targets_for
from .models import ImportJob
from .parser import (
    EXCEL_ERRORS,
    TableInfo,
    UnreadableFile,
    _sniff_delimiter,
    is_empty,
    raw_rows,
    xlsx_row_count,
)

BATCH = 2000
# Files from this size on are checked in forked processes; smaller ones here (a fork and its
# start-up cost more than checking a few thousand rows).
PARALLEL_FROM_BYTES = 1_000_000
MAX_CHECKERS = 3
CHUNKS_IN_FLIGHT = 8  # chunks handed to the checking processes ahead of the writer
READ_SHARE = 0.95  # of the progress bar: reading, checking and writing; the rest: finishing
ERRORS_PREVIEW = 100
PROGRESS_EVERY = 0.25  # seconds between progress-file writes
HEARTBEAT_SECONDS = 1.0  # a running import touches its progress file this often
DEAD_AFTER_SECONDS = 10.0  # …and is dead when the file is older than this
# An all-or-nothing import writes in steps of up to STEP_ROWS rows (STEP_BATCHES batches),
# each one short transaction. After each, the write lock is left free for STEP_PAUSE: SQLite
# has no queue of waiting writers (each retries on its own clock, every 100 ms once it has
# waited a while), and an importer that began its next step at once would starve them until
# their 20 s busy timeout ran out ("database is locked").
STEP_ROWS = 10_000
STEP_BATCHES = 5
STEP_PAUSE = 0.11
# Search entries written per transaction after a step: trigram indexing is slow enough that a
# whole step's rows at once would hold the write lock longer than the step itself.
INDEX_CHUNK = 1000
STEP_LOCK_RETRIES = 10  # a step that timed out waiting for the lock tries again this often


def import_dir() -> Path:
    path = Path(settings.GUANXI_IMPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def progress_path(job: ImportJob) -> Path:
    return import_dir() / f"job-{job.pk}.progress.json"


def error_report_path(job: ImportJob) -> Path:
    return import_dir() / f"job-{job.pk}-errors.csv"


def read_progress(job: ImportJob) -> dict | None:
    try:
        path = progress_path(job)
        data = json.loads(path.read_text())
        data["age"] = time.time() - path.stat().st_mtime
        return data
    except (OSError, ValueError):
        return None


def unreadable_cell(value, width: int) -> CellError:
    """The error of a mapped cell that cannot be read: a CSV row that ends before the column
    (a line break or a quote the exporter left unescaped), an Excel error value, or bytes
    that are not text in the file's encoding. The row is reported, never stored without it."""
    if value is None:
        return CellError(
            "missing_cell",
            _("This row ends after %(n)s columns; the column cannot be read.") % {"n": width},
        )
    if value.why in EXCEL_ERRORS:
        return CellError(
            "unreadable_cell",
            _("The cell shows the spreadsheet error %(error)s; its value cannot be read.")
            % {"error": value.why},
        )
    return CellError(
        "unreadable_cell",
        _(
            "The cell holds bytes that are not text in the file's encoding; choose the right "
            "encoding on the mapping page, or correct the cell."
        ),
    )


class Stop(Exception):
    """Raised to leave the all-or-nothing transaction without committing."""


class ImportConfigError(Exception):
    """The options cannot work (no name column, an owner the user may not assign…)."""


class ImportRun:
    def __init__(self, job: ImportJob, *, on_progress: Callable[[dict], None] | None = None):
        self.job = job
        self.actor = job.created_by
        self.options = {**DEFAULT_OPTIONS, **job.options}
        self.on_progress = on_progress
        self.skip_bad = self.options["mode"] == "skip_bad"
        self.update_duplicates = self.options["duplicates"] == "update"
        self.batch_size = int(self.options.get("batch_size") or BATCH)
        self.counts = dict.fromkeys(
            ("total", "empty", "valid", "written", "created", "updated", "unchanged", "skipped"),
            0,
        )
        self.error_lines: set[int] = set()
        self.errors_preview: list[dict] = []
        self._report: IO[str] | None = None
        self._report_writer: Any = None
        self._collected: list[tuple] | None = None
        self._last_progress = 0.0
        self.phase = "importing"
        self.fraction = 0.0

    # ---- bookkeeping ------------------------------------------------------------------------

    def error(self, line: int, column: str, value, code: str, message: str) -> None:
        """Report a bad row. While a chunk is being checked the error is only collected: it
        may be in a checking process, and the report is written here, in line order."""
        if self._collected is not None:
            self._collected.append((line, column, value, code, str(message)))
            return
        if self._report is None:
            self._report = open(error_report_path(self.job), "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
            self._report_writer = csv.writer(self._report)
            self._report_writer.writerow([_("Line"), _("Column"), _("Value"), _("Reason"), "code"])
        text = clean.cell_str(value)
        shown = text if len(text) <= 60 else text[:57] + "…"
        self._report_writer.writerow([line, column, shown, str(message), code])
        self.error_lines.add(line)
        if len(self.errors_preview) < ERRORS_PREVIEW:
            self.errors_preview.append(
                {"line": line, "column": column, "value": shown, "message": str(message)}
            )

    def progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_EVERY:
            return
        self._last_progress = now
        data = {
            "state": self.phase,
            "fraction": round(self.fraction, 4),
            "errors": len(self.error_lines),
            "pid": os.getpid(),
            "host": socket.gethostname(),
            **self.counts,
        }
        target = progress_path(self.job)
        partial = target.with_suffix(".tmp")
        partial.write_text(json.dumps(data))
        os.replace(partial, target)
        if self.on_progress:
            self.on_progress(data)

    def _set_state(self, state: str, **fields) -> None:
        self.job.state = state
        for name, value in fields.items():
            setattr(self.job, name, value)
        self.job.save(update_fields=["state", *fields])

    # ---- the run ----------------------------------------------------------------------------

    def run(self) -> ImportJob:
        with translation.override(self.options.get("language") or settings.LANGUAGE_CODE):
            self.progress(force=True)
            beating = threading.Event()
            heart = threading.Thread(target=self._heartbeat, args=(beating,), daemon=True)
            heart.start()
            try:
                return self._run()
            finally:
                beating.set()
                heart.join()

    def _heartbeat(self, stop: threading.Event) -> None:
        """While the import runs, even in a long step (building an index), its progress file
        keeps moving: a file that stops tells the job list the process died."""
        path = progress_path(self.job)
        while not stop.wait(HEARTBEAT_SECONDS):
            with contextlib.suppress(OSError):
                os.utime(path)

    def _run(self) -> ImportJob:
        job = self.job
        self._set_state(
            ImportJob.State.IMPORTING, started_at=timezone.now(), finished_at=None, message=""
        )
        error_report_path(job).unlink(missing_ok=True)
        # Millions of short-lived rows would wake the cyclic collector thousands of times for
        # nothing (they hold no cycles): a quarter of the run time. Off while importing.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self.prepare()
            self.import_rows()
        except UnreadableFile as exc:
            return self.finish(
                ImportJob.State.FAILED, _("The file cannot be read: %s") % exc, rolled_back=True
            )
        except ImportConfigError as exc:
            return self.finish(ImportJob.State.FAILED, str(exc), rolled_back=True)
        except Stop:
            return self.finish(
                ImportJob.State.REJECTED,
                _(
                    "%(n)s rows have errors; nothing was written. Correct them, or choose "
                    "“skip bad rows”."
                )
                % {"n": len(self.error_lines)},
                rolled_back=True,
            )
        except IntegrityError as exc:
            return self.finish(
                ImportJob.State.FAILED,
                _(
                    "A concurrent change conflicted with the import (%s). Run it again: rows "
                    "already imported are matched, not duplicated."
                )
                % exc,
                rolled_back=not self.skip_bad,
            )
        finally:
            if collecting:
                gc.enable()
            if self._report is not None:
                self._report.close()
        return self.finish(ImportJob.State.SUCCEEDED, "")

    def finish(self, state: str, message: str, rolled_back: bool = False) -> ImportJob:
        if rolled_back and not self.skip_bad:
            for key in ("written", "created", "updated", "unchanged", "skipped"):
                self.counts[key] = 0
        c = self.counts
        self.phase = state
        self.fraction = 1.0
        self._set_state(
            state,
            finished_at=timezone.now(),
            message=message,
            total_rows=c["total"],
            empty_rows=c["empty"],
            created_count=c["created"],
            updated_count=c["updated"],
            unchanged_count=c["unchanged"],
            skipped_count=c["skipped"],
            error_count=len(self.error_lines),
            errors_preview=self.errors_preview,
        )
        self.progress(force=True)
        # All-or-nothing audits inside its own transaction (import_rows()); skip mode audits
        # here whatever it wrote, even when a later batch failed.
        audited = getattr(self, "_audited", False)
        if not audited and (state == ImportJob.State.SUCCEEDED or (self.skip_bad and c["written"])):
            with transaction.atomic():
                self.audit()
        return self.job

    def audit(self) -> None:
        c = self.counts
        summary = {
            "file": self.job.file_name,
            "sha256": self.job.sha256,
            "rows": c["total"],
            "created": c["created"],
            "updated": c["updated"],
            "unchanged": c["unchanged"],
            "skipped": c["skipped"],
            "errors": len(self.error_lines),
        }
        audit_record(
            actor=self.actor, verb=f"import.{self.job.kind}", target=self.job, changes=summary
        )
        webhook_emit("import.completed", {"job_id": self.job.pk, "kind": self.job.kind, **summary})

    # ---- subclasses -------------------------------------------------------------------------

    def prepare(self) -> None:
        """Load what checking and writing need (runs before any checking process forks)."""
        raise NotImplementedError

    def clean_row(self, line: int, cells: list) -> dict | None:
        """The row cleaned, or None after reporting why not. No database access: this runs
        in the checking processes."""
        raise NotImplementedError

    def first_occurrence(self, line: int, row: dict) -> bool:
        """False (after reporting it) when an earlier line holds the same record."""
        raise NotImplementedError

    def match_batch(self, rows: list[tuple[int, dict]]) -> Any:
        """All-or-nothing in steps: match a batch against the database (reads only)."""
        raise NotImplementedError

    def apply_batch(self, plan: Any) -> None:
        """All-or-nothing in steps: write what match_batch planned."""
        raise NotImplementedError

    def write_batch(self, rows: list[tuple[int, dict]]) -> None:
        raise NotImplementedError

    # ---- reading and checking ---------------------------------------------------------------

    def _columns(self) -> list[tuple[int, str, str]]:
        """(index, target, header) for every mapped column."""
        known = {t.key for t in targets_for(self.job.kind)}
        columns = []
        for index, target in sorted(self.job.mapping.items(), key=lambda kv: int(kv[0])):
            if target in known:
                i = int(index)
                header = self.job.headers[i] if i < len(self.job.headers) else f"#{i + 1}"
                columns.append((i, target, header or f"#{i + 1}"))
        return columns

    def _chunks(self) -> Iterator[list[tuple[int, list]]]:
        """The file's non-empty data rows as (line, cells), batch_size at a time."""
        path = import_dir() / self.job.file_path
        info = _table_info(self.job)
        size = max(self.job.file_size, 1)
        if info.file_format == "xlsx":
            size = max(xlsx_row_count(path, self.job.sheet), 1)
        elif info.file_format == "xls":
            size = 0
        self.read_share = 0.0

        def on_read(position: int) -> None:
            if size:
                self.read_share = min(position / size, 1.0)

        chunk: list[tuple[int, list]] = []
        for line, cells in raw_rows(path, info, on_read):
            if line <= self.job.header_line:
                continue
            if is_empty(cells):
                self.counts["empty"] += 1
                continue
            self.counts["total"] += 1
            chunk.append((line, cells))
            if len(chunk) >= self.batch_size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def check_chunk(self, chunk: list[tuple[int, list]]) -> tuple[list, list]:
        """([(line, row)] of the rows that cleaned, [error] for the others)."""
        self._collected = []
        try:
            rows = [
                (line, row)
                for line, cells in chunk
                if (row := self.clean_row(line, cells)) is not None
            ]
            return rows, self._collected
        finally:
            self._collected = None

    def _checked_chunks(self, chunks) -> Iterator[tuple[list, list]]:
        """check_chunk() of each chunk, in order: here for a small file, else in a pool of
        forked processes with a few chunks in flight (the reader never runs far ahead)."""
        if self.job.file_size < PARALLEL_FROM_BYTES or (os.cpu_count() or 1) < 2:
            yield from map(self.check_chunk, chunks)
            return
        # One core stays with this process, which reads, writes and builds the indexes: on 2
        # cores a second checker would only make the writer wait for a CPU.
        workers = max(1, min((os.cpu_count() or 2) - 1, MAX_CHECKERS))
        context = multiprocessing.get_context("fork")
        with context.Pool(workers, _start_checking, (self, os.getpid())) as pool:
            in_flight: deque = deque()
            for chunk in chunks:
                in_flight.append(pool.apply_async(_check_chunk, (chunk,)))
                if len(in_flight) >= CHUNKS_IN_FLIGHT:
                    yield in_flight.popleft().get()
            while in_flight:
                yield in_flight.popleft().get()

    def checked_batches(self) -> Iterator[list[tuple[int, dict]]]:
        """The clean rows batch by batch, in file order, each the first of its record; the
        errors go to the report in line order as the batches come."""
        for rows, errors in self._checked_chunks(self._chunks()):
            self._collected = errors
            try:
                batch = [(line, row) for line, row in rows if self.first_occurrence(line, row)]
            finally:
                self._collected = None
            for error in sorted(errors, key=lambda e: e[0]):
                self.error(*error)
            self.counts["valid"] += len(batch)
            self.fraction = self.read_share * READ_SHARE
            yield batch

    # ---- writing ----------------------------------------------------------------------------

    def import_rows(self) -> None:
        batches = self.checked_batches()
        first = next(batches, [])
        batches = itertools.chain([first], batches)
        if not self.skip_bad and self.in_steps:
            self._import_in_steps(batches)
            return
        if self.skip_bad:
            for rows in batches:
                if rows:
                    self._write_batch_retrying(rows)
                self.progress()
            self._finishing()
            return
        with transaction.atomic():
            with self.bulk_load(self._expected_rows()):
                for rows in batches:
                    if rows:
                        self.write_batch(rows)
                        if not self.error_lines:
                            self.counts["written"] += len(rows)
                    self.progress()
                self.after_step()
                self._finishing()
                if self.error_lines:
                    raise Stop  # before the indexes are rebuilt: the rollback restores them
            self.audit()
            self._audited = True

    # All-or-nothing in short steps (docs/decisions/0004-imports-in-steps.md): the rows go
    # into a hidden load batch one short transaction per batch, so other users keep writing;
    # the batch is published at the end in one tiny transaction, or deleted.
    in_steps = False

    def _import_in_steps(self, batches) -> None:
        self.open_load()
        try:
            first: list = next(batches, [])
            self.dropped = self.drop_indexes_for(self._expected_rows())
            step_rows = max(self.batch_size, min(STEP_ROWS, STEP_BATCHES * self.batch_size))
            pending: list = []
            with self.step_cache():
                for rows in itertools.chain([first], batches):
                    if rows and not self.error_lines:
                        pending.append(rows)
                        if sum(map(len, pending)) >= step_rows:
                            self._write_step(pending)
                            pending = []
                    self.progress()
                if pending and not self.error_lines:
                    self._write_step(pending)
            self._finishing()
            if self.error_lines:
                raise Stop
            self._build_dropped()
            self.apply_spooled()
            with transaction.atomic():
                self.publish_load()
                self.audit()
            self._audited = True
        except BaseException:
            self._build_dropped()
            self.discard_load()
            raise
        finally:
            self.close_spool()

    def _build_dropped(self) -> None:
        if getattr(self, "dropped", None):
            self.phase = "indexing"
            self.progress(force=True)
            build_indexes(self.dropped)
            self.dropped = []
            ImportJob.objects.filter(pk=self.job.pk).update(dropped_indexes=[])

    def open_load(self) -> None:
        raise NotImplementedError

    def drop_indexes_for(self, expected_rows: int) -> list[str]:
        return []

    def step_cache(self):
        return contextlib.nullcontext()

    def apply_spooled(self) -> None:
        pass

    def publish_load(self) -> None:
        raise NotImplementedError

    def discard_load(self) -> None:
        raise NotImplementedError

    def close_spool(self) -> None:
        pass

    def _finishing(self) -> None:
        self.phase = "finishing"
        self.fraction = READ_SHARE
        self.progress(force=True)

    def _expected_rows(self) -> int:
        """The file's row count, estimated from how much of it the first chunks took."""
        return int(self.counts["total"] / self.read_share) if self.read_share > 0 else 0

    def bulk_load(self, expected_rows: int):
        """Context of an all-or-nothing write (inside its transaction): how a subclass
        loads many rows at once."""
        return contextlib.nullcontext()

    def _write_batch_retrying(self, rows) -> None:
        """Skip-bad-rows mode: a batch that lost a race (a phone taken meanwhile) is matched
        again once, in a fresh transaction."""
        for attempt in (1, 2):
            before = dict(self.counts), set(self.error_lines), len(self.errors_preview)
            try:
                with transaction.atomic():
                    self.write_batch(rows)
                self.counts["written"] += len(rows)
                return
            except IntegrityError:
                self.counts = before[0]
                self.error_lines = before[1]
                del self.errors_preview[before[2] :]
                self.forget_rolled_back()
                if attempt == 2:
                    raise

    def _write_step(self, batches: list) -> None:
        """All-or-nothing, one step: a few batches matched (reads only, outside the write
        transaction), then inserted in one short transaction, then the write lock left free
        for a moment (STEP_PAUSE). A step that lost a race is matched again once."""
        conflicts = waits = 0
        while True:
            before = dict(self.counts), set(self.error_lines), len(self.errors_preview)
            try:
                plans = [self.match_batch(rows) for rows in batches]
                with transaction.atomic():
                    for plan in plans:
                        self.apply_batch(plan)
            except (IntegrityError, OperationalError) as exc:
                self.counts = before[0]
                self.error_lines = before[1]
                del self.errors_preview[before[2] :]
                self.forget_rolled_back()
                if isinstance(exc, OperationalError):
                    # Others held the lock for the whole busy timeout: wait our turn again.
                    waits += 1
                    if "locked" not in str(exc) or waits > STEP_LOCK_RETRIES:
                        raise
                    continue
                conflicts += 1
                if conflicts == 2:
                    raise
                continue
            # Committed: what follows never redoes the step (matched again, its own rows
            # would count as duplicates and be skipped).
            self.counts["written"] += sum(map(len, batches))
            self.progress()
            time.sleep(STEP_PAUSE)
            self.after_step()
            return

    def forget_rolled_back(self) -> None:
        """Drop what a rolled-back batch cached (ids of rows that no longer exist)."""

    def after_step(self) -> None:
        """Work that follows a committed step in a short transaction of its own."""


def retrying_when_locked(write: Callable[[], object]) -> None:
    """`write()` in a short transaction of its own, tried again while others held SQLite's
    write lock past the busy timeout ("database is locked")."""
    for attempt in range(STEP_LOCK_RETRIES + 1):
        try:
            with transaction.atomic():
                write()
            return
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == STEP_LOCK_RETRIES:
                raise


# ---- checking processes -----------------------------------------------------------------------

_checking_run: ImportRun | None = None


def _start_checking(run: ImportRun, parent_pid: int) -> None:
    """In a forked checking process: remember the run; leave when the importer is gone (a
    killed importer cannot stop its pool, and the pool's pipe never closes on its own)."""
    global _checking_run
    _checking_run = run

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _check_chunk(chunk):
    return _checking_run.check_chunk(chunk)


DEFAULT_OPTIONS = {
    "mode": "all",  # "all" (all-or-nothing) or "skip_bad"
    "duplicates": "skip",  # "skip" or "update"
    "owner_mode": "none",  # "column", "fixed", "rotation" or "none"
    "owner_id": None,
    "batch_size": BATCH,
    "defer_indexes": False,  # a big load drops secondary indexes (nobody else at work)
}


def _table_info(job: ImportJob):
    info = TableInfo(
        file_format=job.file_format,
        encoding=job.encoding,
        header_line=job.header_line,
        headers=job.headers,
        sheet=job.sheet,
    )
    if job.delimiter:
        info.delimiter = job.delimiter
    elif job.file_format == "csv":  # a job uploaded before the delimiter was kept
        path = import_dir() / job.file_path
        with open(path, encoding=job.encoding, newline="") as handle:
            info.delimiter = _sniff_delimiter("".join(handle.readline() for _ in range(20)))
    return info
