"""Panels other apps add to the customer page (points and tier, value and churn, …).

`customers` sits below them, so it cannot import their views; each app registers a panel
in its AppConfig.ready(), as timeline sources are registered. A panel is
`panel(request, customer) -> str`: rendered HTML (empty for nothing to show).
"""

from collections.abc import Callable

Panel = Callable[..., str]

_PANELS: dict[str, Panel] = {}


def register_customer_panel(name: str, panel: Panel) -> None:
    """Register (or replace) the panel `name`; panels show in registration order."""
    _PANELS[name] = panel


def customer_panels(*, request, customer) -> list[str]:
    return [html for panel in list(_PANELS.values()) if (html := panel(request, customer))]
