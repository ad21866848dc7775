"""Read delivery status notifications (RFC 3464) from a Maildir, an mbox or .eml files and
apply them: `guanxi bounces /var/mail/bounces/` (run it from cron or after the mail server
delivers into the bounce mailbox). A Maildir's processed messages move from new/ to cur/
(flag S); the same report applied twice changes nothing."""

import mailbox
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from guanxi.marketing.services import bounce_process


class Command(BaseCommand):
    help = "Apply bounce reports (DSN) from a Maildir, an mbox file or .eml files."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="Maildir folder, mbox file or .eml files")

    def handle(self, *args, **options):
        paths = options["paths"]
        totals = {"reports": 0, "not_a_dsn": 0, "bounced": 0, "hard": 0}

        def apply(raw: bytes) -> None:
            result = bounce_process(raw=raw)
            if result["result"] == "not_a_dsn":
                totals["not_a_dsn"] += 1
                return
            totals["reports"] += 1
            totals["bounced"] += result["bounced"]
            totals["hard"] += result["hard"]

        for name in paths:
            path = Path(name)
            if path.is_dir() and (path / "new").is_dir():
                box = mailbox.Maildir(path, factory=None, create=False)
                for key in list(box.iterkeys()):
                    message = box[key]
                    if message.get_subdir() != "new":
                        continue
                    apply(box.get_bytes(key))
                    message.set_subdir("cur")
                    message.add_flag("S")
                    box[key] = message
            elif path.is_file() and path.suffix.lower() == ".eml":
                apply(path.read_bytes())
            elif path.is_file():
                box = mailbox.mbox(path, create=False)
                for key in box.iterkeys():
                    apply(box.get_bytes(key))
            else:
                raise CommandError(f"{name}: not a Maildir, mbox or .eml file")
        self.stdout.write(
            "{reports} reports: {bounced} bounced, {hard} hard (no more e-mail); "
            "{not_a_dsn} other messages skipped".format(**totals)
        )
