"""Bounces (C7 item 6): delivery status notifications (RFC 3464) read with the standard
library's email package.

A DSN is a multipart/report with a `message/delivery-status` part: one block of fields about
the report, then one block per recipient (Final-Recipient, Action, Status, Diagnostic-Code),
and usually the returned message or its headers, which carry our Message-ID
(`<gx.<campaign>.<recipient>@domain>`, marketing.sending.message_id). `parse_dsn` turns one
report into a list of `Bounce`; `marketing.services.bounce_process` applies them.
"""

import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from email.parser import BytesHeaderParser

OUR_ID = re.compile(r"<gx\.(\d+)\.(\d+)@[^>]+>")


@dataclass(frozen=True)
class Bounce:
    address: str  # lowercased
    action: str  # failed / delayed / delivered / relayed / expanded
    status: str  # RFC 3463: 5.1.1
    diagnostic: str = ""
    message_id: str = ""

    @property
    def hard(self) -> bool:
        """A permanent failure: the address is wrong or refuses mail for good."""
        return self.action == "failed" and self.status.startswith("5")

    @property
    def failed(self) -> bool:
        return self.action == "failed"

    def recipient_id(self) -> int | None:
        match = OUR_ID.search(self.message_id)
        return int(match.group(2)) if match else None


class NotADsn(ValueError):
    """The message is no delivery status notification (an auto-reply, spam, a person)."""


def _address(value: str) -> str:
    # "rfc822; someone@example.cn" (the address type is optional in practice)
    value = (value or "").strip()
    if ";" in value:
        value = value.split(";", 1)[1]
    return value.strip().strip("<>").strip().lower()


def _status(value: str) -> str:
    match = re.search(r"[245]\.\d{1,3}\.\d{1,3}", value or "")
    return match.group(0) if match else ""


def _returned_message_id(report: Message) -> str:
    for part in report.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, Message) and inner.get("Message-ID"):
                return str(inner["Message-ID"]).strip()
        elif ctype == "text/rfc822-headers":
            raw = part.get_payload(decode=True)
            headers = BytesHeaderParser().parsebytes(raw if isinstance(raw, bytes) else b"")
            if headers.get("Message-ID"):
                return str(headers["Message-ID"]).strip()
    return ""


def parse_dsn(raw: bytes) -> list[Bounce]:
    """The recipients one DSN reports on. Raises NotADsn for anything else."""
    # Line ends as the SMTP wire (CRLF), a mailbox on disk (LF) or both (a CRLF message
    # stored by a tool that added its own CR) all read the same.
    report = message_from_bytes(re.sub(rb"\r+\n", b"\n", raw), policy=policy.compat32)
    status_part = next(
        (p for p in report.walk() if p.get_content_type() == "message/delivery-status"), None
    )
    if status_part is None:
        raise NotADsn("no message/delivery-status part")
    payload = status_part.get_payload()
    blocks = [b for b in payload if isinstance(b, Message)] if isinstance(payload, list) else []
    if len(blocks) < 2:
        raise NotADsn("no per-recipient fields")
    per_message, recipients = blocks[0], blocks[1:]
    original_id = (
        str(per_message.get("Original-Envelope-Id", "")) if per_message is not None else ""
    )
    message_id = _returned_message_id(report) or original_id
    found = []
    for block in recipients:
        address = _address(block.get("Final-Recipient", "") or block.get("Original-Recipient", ""))
        action = str(block.get("Action", "")).strip().lower()
        if not address or not action:
            continue
        diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
        if ";" in diagnostic:
            diagnostic = diagnostic.split(";", 1)[1].strip()
        found.append(
            Bounce(
                address=address,
                action=action,
                status=_status(str(block.get("Status", ""))) or _status(diagnostic),
                diagnostic=diagnostic[:300],
                message_id=message_id,
            )
        )
    if not found:
        raise NotADsn("no recipient with an action")
    return found
