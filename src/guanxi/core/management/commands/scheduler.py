"""`guanxi scheduler`: enqueue the periodic jobs of settings.GUANXI_PERIODIC_TASKS.

The worker runs them. Every periodic job is idempotent, so a second scheduler, a restart or a
late run does no harm.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = "Enqueue periodic background jobs at their intervals (runs until stopped)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Enqueue every job once and exit.")

    def handle(self, *args, once: bool, **options):
        jobs = [(import_string(path), seconds) for path, seconds in settings.GUANXI_PERIODIC_TASKS]
        next_run = [0.0] * len(jobs)
        while True:
            now = time.monotonic()
            for index, (job, seconds) in enumerate(jobs):
                if now >= next_run[index]:
                    job.enqueue()
                    next_run[index] = now + seconds
            if once:
                return
            time.sleep(max(1.0, min(next_run) - time.monotonic()))
