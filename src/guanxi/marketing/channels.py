"""The ways a message leaves: e-mail through Django's mail API (any SMTP server the
settings name), SMS through a provider backend chosen by GUANXI_SMS_BACKEND.

An SMS provider adapter is a class with `send(to: str, text: str, reference: str) -> str`
returning the provider's message id, raising SmsRefused for a number the provider rejects
and any other exception when the provider is unreachable. Two ship: the console (prints)
and the file backend (appends JSON lines to GUANXI_SMS_FILE), the default.
"""

import json
import threading
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail import get_connection
from django.utils.module_loading import import_string


class SmsRefused(Exception):
    """The provider refused this number (invalid, blacklisted)."""


class ConsoleSmsBackend:
    def send(self, to: str, text: str, reference: str) -> str:
        print(f"SMS to {to} [{reference}]: {text}")
        return uuid.uuid4().hex


_FILE_LOCK = threading.Lock()


class FileSmsBackend:
    def __init__(self):
        self.path = Path(
            getattr(settings, "GUANXI_SMS_FILE", settings.VAR_DIR / "sms-outbox.jsonl")
        )

    def send(self, to: str, text: str, reference: str) -> str:
        message_id = uuid.uuid4().hex
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {"id": message_id, "to": to, "text": text, "ref": reference}, ensure_ascii=False
        )
        with _FILE_LOCK, self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
        return message_id


def sms_backend():
    path = getattr(settings, "GUANXI_SMS_BACKEND", "guanxi.marketing.channels.FileSmsBackend")
    return import_string(path)()


def email_connection():
    """A connection to the campaign SMTP server (GUANXI_MARKETING_EMAIL_BACKEND, else the
    project's EMAIL_BACKEND and EMAIL_HOST / EMAIL_PORT / … settings)."""
    backend = getattr(settings, "GUANXI_MARKETING_EMAIL_BACKEND", None) or settings.EMAIL_BACKEND
    return get_connection(backend, fail_silently=False)
