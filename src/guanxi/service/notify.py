"""The service app's door to the notification centre (guanxi.notifications): one place, so
tests can watch what the service app sends. `notify` is idempotent per (recipient, key)."""

from guanxi.notifications.services import notify, notify_withdraw


def send(*, recipient, key: str, title, body="", url: str = "", kind: str = "service") -> bool:
    return notify(recipient=recipient, key=key, title=title, body=body, url=url, kind=kind)


def withdraw(*, key: str, recipient=None) -> int:
    return notify_withdraw(key=key, recipient=recipient)
