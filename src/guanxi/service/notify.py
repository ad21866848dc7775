"""The service app's door to the notification centre (guanxi.notifications): one place, so
tests can watch what the service app sends. `notify` is idempotent per (recipient, key)."""

from guanxi.notifications.services import Notice, notify, notify_many, notify_withdraw


def send(*, recipient, key: str, title, body="", url: str = "", kind: str = "service") -> bool:
    return notify(recipient=recipient, key=key, title=title, body=body, url=url, kind=kind)


def withdraw(*, key: str, recipient=None) -> int:
    return notify_withdraw(key=key, recipient=recipient)


def send_many(items: list[dict]) -> int:
    """Many notices at once (a scan's batch), each a dict of `send`'s arguments; one
    round of queries for all of them. How many were new."""
    return notify_many(
        Notice(
            recipient_id=item["recipient"].pk,
            key=item["key"],
            title=item["title"],
            body=item.get("body", ""),
            url=item.get("url", ""),
            kind=item.get("kind", "service"),
        )
        for item in items
    )
