"""guanxi rebuild_search_index: build the word and substring search index again from the
customer rows (recovery; the services keep it in step on every change)."""

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from guanxi.customers.search_index import rebuild_search_index


class Command(BaseCommand):
    help = "Rebuild the customer word and substring search index from the customer rows."

    def handle(self, *args, **options):
        started = time.monotonic()
        with transaction.atomic():
            count = rebuild_search_index()
        self.stdout.write(
            f"Indexed {count} active customers in {time.monotonic() - started:.1f} s."
        )
