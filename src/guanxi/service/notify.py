"""The service app's door to the notification centre (guanxi.notifications, C8).

Until that app is installed the notices are skipped (the SLA events, breach marks and the
audit trail still record everything); with it, `notify` is idempotent per (recipient, key).
"""


def send(*, recipient, key: str, title, body: str = "", url: str = "", kind: str = "service"):
    try:
        from guanxi.notifications.services import notify
    except ImportError:
        return False
    return notify(recipient=recipient, key=key, title=title, body=body, url=url, kind=kind)


def withdraw(*, key: str, recipient=None) -> int:
    try:
        from guanxi.notifications.services import notify_withdraw
    except ImportError:
        return 0
    return notify_withdraw(key=key, recipient=recipient)
