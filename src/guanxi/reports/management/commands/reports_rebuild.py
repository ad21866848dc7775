"""guanxi reports_rebuild: recompute the monthly roll-up of order lines from the lines
(recovery, or after order lines were written around the services; the services keep it in
step on every change)."""

import time

from django.core.management.base import BaseCommand

from guanxi.reports.rollup import rebuild


class Command(BaseCommand):
    help = "Recompute the monthly roll-up of order lines that the pivot reads."

    def handle(self, *args, **options):
        started = time.monotonic()
        count = rebuild()
        self.stdout.write(f"Wrote {count} roll-up rows in {time.monotonic() - started:.1f} s.")
