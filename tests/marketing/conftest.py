"""Marketing fixtures: a real SMTP server on loopback (aiosmtpd), customers in bulk, and
settings that point campaign e-mail at that server."""

import socket
import sys
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from guanxi.customers.models import Customer
from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401


class Inbox:
    """What the SMTP server received: one parsed message per RCPT."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.messages.append((rcpt, parsed))
        return "250 OK"

    def to(self, address):
        return [m for rcpt, m in self.messages if rcpt == address]

    @property
    def recipients(self):
        return [rcpt for rcpt, _m in self.messages]


@pytest.fixture(autouse=True)
def _no_quiet_hours(settings):
    """Tests run at any hour: sending windows apply only where a test sets them."""
    settings.GUANXI_CONTACT_WINDOWS = {"sms": None, "phone": None}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """A real SMTP server on 127.0.0.1; campaign e-mail goes there."""
    inbox = Inbox()
    port = _free_port()
    # Server and client share one interpreter here: hand the GIL over quickly (the default
    # 5 ms switch interval would make every SMTP round trip wait for it).
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.GUANXI_MARKETING_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.GUANXI_MARKETING_RATE = 0  # no throttle in tests
    settings.GUANXI_PUBLIC_URL = "https://crm.example.cn"
    yield inbox
    controller.stop()
    sys.setswitchinterval(interval)


def bulk_customers(unit, n: int, prefix: str = "客户", start: int = 0, **fields) -> list[Customer]:
    """Many customers at once (the 1,000-recipient campaign); each has an e-mail and a phone."""
    rows = [
        Customer(
            name=f"{prefix}{i:04d}",
            email=f"c{i:05d}@example.cn",
            email_key=f"c{i:05d}@example.cn",
            primary_phone=f"+86139{i:08d}",
            org_unit=unit,
            **fields,
        )
        for i in range(start, start + n)
    ]
    Customer.objects.bulk_create(rows, batch_size=500)
    return list(Customer.objects.filter(name__startswith=prefix).order_by("id"))
