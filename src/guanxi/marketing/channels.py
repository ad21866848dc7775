"""The ways a message leaves: e-mail through Django's mail API (any SMTP server the
settings name), SMS and WeChat through provider backends chosen by GUANXI_SMS_BACKEND and
GUANXI_WECHAT_BACKEND.

A provider adapter (SMS or WeChat) is a class with `send(to: str, text: str, reference: str)
-> str` returning the provider's message id, raising SmsRefused (WechatRefused) for an
address the provider rejects and any other exception when the provider is unreachable. For
WeChat `to` is the customer's WeChat ID as recorded (an official account's OpenID when the
account is linked). Two of each ship: the console (prints) and the file backend (appends JSON
lines to GUANXI_SMS_FILE / GUANXI_WECHAT_FILE), the default. docs/operations.md shows an
adapter for a WeChat official account's customer-service message API.
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


class WechatRefused(Exception):
    """The provider refused this WeChat user (unknown OpenID, unfollowed, blocked)."""


class ConsoleSmsBackend:
    label = "SMS"

    def send(self, to: str, text: str, reference: str) -> str:
        print(f"{self.label} to {to} [{reference}]: {text}")
        return uuid.uuid4().hex


class ConsoleWechatBackend(ConsoleSmsBackend):
    label = "WeChat"


_FILE_LOCK = threading.Lock()


class FileSmsBackend:
    setting, default_name = "GUANXI_SMS_FILE", "sms-outbox.jsonl"

    def __init__(self):
        self.path = Path(
            getattr(settings, self.setting, None) or settings.VAR_DIR / self.default_name
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


class FileWechatBackend(FileSmsBackend):
    setting, default_name = "GUANXI_WECHAT_FILE", "wechat-outbox.jsonl"


def sms_backend():
    path = getattr(settings, "GUANXI_SMS_BACKEND", "guanxi.marketing.channels.FileSmsBackend")
    return import_string(path)()


def wechat_backend():
    path = getattr(settings, "GUANXI_WECHAT_BACKEND", "guanxi.marketing.channels.FileWechatBackend")
    return import_string(path)()


def email_connection():
    """A connection to the campaign SMTP server (GUANXI_MARKETING_EMAIL_BACKEND, else the
    project's EMAIL_BACKEND and EMAIL_HOST / EMAIL_PORT / … settings)."""
    backend = getattr(settings, "GUANXI_MARKETING_EMAIL_BACKEND", None) or settings.EMAIL_BACKEND
    return get_connection(backend, fail_silently=False)
