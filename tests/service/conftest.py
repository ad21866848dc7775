"""Service fixtures: the Beijing branch's agents (with skills), its manager, a customer of
sales1, and a clock stopped on Thursday 3 December 2026, 10:00 in Shanghai.

`notices` records what the service app sent to the notification centre.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from guanxi.core.models import Role
from guanxi.service import notify
from guanxi.service.models import AgentSkill, TicketType
from tests.conftest import make_user
from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=SH)


def at(d, hh=0, mm=0, month=12, year=2026):
    return datetime(year, month, d, hh, mm, tzinfo=SH)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture(autouse=True)
def notices(monkeypatch):
    sent = []

    def send(**kwargs):
        sent.append(kwargs)
        return True

    def send_many(items):
        sent.extend(items)
        return len(items)

    monkeypatch.setattr(notify, "send", send)
    monkeypatch.setattr(notify, "send_many", send_many)
    monkeypatch.setattr(notify, "withdraw", lambda **kwargs: 0)
    return sent


def _skilled(user, *types):
    AgentSkill.objects.bulk_create(AgentSkill(user=user, type=t) for t in types)
    return user


@pytest.fixture
def agent(org):
    """周敏, service agent of the Beijing branch, handles everything."""
    return _skilled(
        make_user("agent1", org["bj"], Role.SERVICE, display_name="周敏"), *TicketType.values
    )


@pytest.fixture
def agent2(org):
    """吴强, a repair technician of the Beijing branch."""
    return _skilled(
        make_user("agent2", org["bj"], Role.SERVICE, display_name="吴强"), TicketType.REPAIR
    )


@pytest.fixture
def sh_agent(org):
    return _skilled(
        make_user("agent3", org["sh"], Role.SERVICE, display_name="孙丽"), *TicketType.values
    )
