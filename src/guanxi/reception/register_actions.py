"""Buttons other apps add to an entry of the visitor and call register (来人来电登记表),
e.g. service's "New ticket" for a caller with a fault.

`reception` sits below those apps, so it cannot import them; each registers a provider in
its AppConfig.ready(), as customer actions are registered:

    register_visit_action("service", provider)
    # provider(*, visit, viewer) -> [(label, url)]

The register page shows every provider's buttons on each entry the viewer can see (the
page already limits entries to the viewer's desk).
"""

from collections.abc import Callable

VisitActionProvider = Callable[..., list[tuple[str, str]]]

_PROVIDERS: dict[str, VisitActionProvider] = {}


def register_visit_action(name: str, provider: VisitActionProvider) -> None:
    """Register (or replace) the provider `name`; buttons show in registration order."""
    _PROVIDERS[name] = provider


def visit_actions(*, visit, viewer) -> list[tuple[str, str]]:
    return [a for p in list(_PROVIDERS.values()) for a in p(visit=visit, viewer=viewer)]
