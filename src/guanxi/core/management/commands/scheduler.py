"""`guanxi scheduler`: enqueue the periodic jobs of settings.GUANXI_PERIODIC_TASKS.

The worker runs them. Every periodic job is idempotent, so a second scheduler, a restart or a
late run does no harm. The checks of settings.GUANXI_SCHEDULER_CHECKS run here, in this
process, every few seconds (e.g. marking an import whose process died as failed): they must
not wait behind the job the worker is busy with. A check that fails is logged; the next
round tries again.
"""

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Enqueue periodic background jobs at their intervals (runs until stopped)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Enqueue every job once and exit.")

    def handle(self, *args, once: bool, **options):
        jobs = [(import_string(path), seconds) for path, seconds in settings.GUANXI_PERIODIC_TASKS]
        checks = [
            (import_string(path), seconds)
            for path, seconds in getattr(settings, "GUANXI_SCHEDULER_CHECKS", [])
        ]
        next_run = [0.0] * len(jobs)
        next_check = [0.0] * len(checks)
        while True:
            now = time.monotonic()
            for index, (job, seconds) in enumerate(jobs):
                if now >= next_run[index]:
                    job.enqueue()
                    next_run[index] = now + seconds
            for index, (check, seconds) in enumerate(checks):
                if now >= next_check[index]:
                    try:
                        check()
                    except Exception:
                        logger.exception("scheduler check %s failed", check.__name__)
                    next_check[index] = time.monotonic() + seconds
            if once:
                return
            time.sleep(max(1.0, min(next_run + next_check) - time.monotonic()))
