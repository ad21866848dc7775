"""The home page is built from panels that the apps register (ARCHITECTURE: apps extend the
product through registries in their AppConfig.ready(); core imports no domain app).

A panel is a template and a function of the user that returns the template's context, or
None when the panel is not for this user (a salesperson sees no finance desk). Each panel
shows what that role works on first, with numbers that link to the lists behind them.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from .models import User

PanelContext = Callable[[User], dict | None]


class _Placed(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def order(self) -> int: ...

    @property
    def context(self) -> PanelContext: ...


P = TypeVar("P", bound=_Placed)


def shown_to(user: User, registered: Iterable[P]) -> list[tuple[P, dict]]:
    """The registered panels (or sections) this user sees, lower `order` first, each with
    its context; None from a panel's context means it is not for this user. The home page
    and interactions' "my day" place theirs alike."""
    shown = []
    for item in sorted(registered, key=lambda p: (p.order, p.name)):
        context = item.context(user)
        if context is not None:
            shown.append((item, context))
    return shown


@dataclass(frozen=True)
class HomePanel:
    name: str
    template: str
    context: PanelContext
    order: int = 100  # lower first
    wide: bool = False  # the whole row instead of half of it


_PANELS: dict[str, HomePanel] = {}


def register_home_panel(panel: HomePanel) -> None:
    """Register (or replace) a panel; call from the app's AppConfig.ready()."""
    _PANELS[panel.name] = panel


def home_panels_for(user: User) -> list[tuple[HomePanel, dict]]:
    """The panels this user sees, in order, each with its context."""
    return shown_to(user, _PANELS.values())
