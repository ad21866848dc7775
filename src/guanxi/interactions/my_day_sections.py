"""Sections that apps above interactions add to the salesperson's "my day" page.

"My day" (interactions) lists what a salesperson acts on today. Apps above it in the
layers have their own work for the day (insights: each customer's next best action) and
must show it there without interactions importing them, as home-page panels do through
`core.home`: an app registers a section from its AppConfig.ready().

A section is a template and a function of the user that returns the template's context
(given to it as `s`), or None when the section is not for this user.
"""

from collections.abc import Callable
from dataclasses import dataclass

from guanxi.core.home import shown_to
from guanxi.core.models import User

SectionContext = Callable[[User], dict | None]


@dataclass(frozen=True)
class MyDaySection:
    name: str
    template: str
    context: SectionContext
    order: int = 100  # lower first, below the page's own lists


_SECTIONS: dict[str, MyDaySection] = {}


def register_my_day_section(section: MyDaySection) -> None:
    """Register (or replace) a section; call from the app's AppConfig.ready()."""
    _SECTIONS[section.name] = section


def my_day_sections_for(user: User) -> list[tuple[MyDaySection, dict]]:
    """The sections this user sees, in order, each with its context."""
    return shown_to(user, _SECTIONS.values())
