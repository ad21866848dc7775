"""Messy files as they arrive from other systems, and a one-call import."""

import csv
import io
from pathlib import Path

from guanxi.transfer.jobs import import_run
from guanxi.transfer.models import ImportJob
from guanxi.transfer.services import import_configure, import_upload


def csv_bytes(rows: list[list], encoding: str = "utf-8", bom: bool = False) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def upload(actor, name: str, data: bytes, kind: str = "customers") -> ImportJob:
    return import_upload(actor=actor, name=name, stream=io.BytesIO(data), kind=kind)


def run(job: ImportJob, actor, mapping: dict | None = None, **options) -> ImportJob:
    """Configure with the proposed (or given) mapping and run in the foreground."""
    import_configure(
        actor=actor,
        job_id=job.pk,
        mapping=job.mapping if mapping is None else mapping,
        options=options,
    )
    return import_run(job_id=job.pk)


def import_file(actor, name: str, data: bytes, kind: str = "customers", **options) -> ImportJob:
    return run(upload(actor, name, data, kind), actor, **options)


def report_rows(job: ImportJob) -> list[list[str]]:
    from guanxi.transfer.runner import error_report_path

    path: Path = error_report_path(job)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))[1:]
