"""Reception fixtures: a Beijing sales office with three salespeople on today's queue.

张伟 (sales1, `owner`), 李娜 (sales2, `teammate`) and 王芳 (sales4, `third`), in that order;
the receptionist registers walk-ins and calls through the services, as the desk does.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from guanxi.core.models import Role
from guanxi.reception import services
from tests.conftest import make_user
from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401

from .helpers import Desk

# Monday 2026-03-02, 10:00 at the sales office: every test's day starts here, so the day's
# roster is never split by midnight.
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def clock(time_machine):
    """Time runs from NOW; `clock.move_to(instant, tick=False)` stops it at an instant."""
    time_machine.move_to(NOW, tick=True)
    return time_machine


@pytest.fixture
def third(org):
    return make_user("sales4", org["bj_sales"], Role.SALES, display_name="王芳")


@pytest.fixture
def fourth(org):
    return make_user("sales5", org["bj_sales"], Role.SALES, display_name="赵磊")


@pytest.fixture
def trio(owner, teammate, third):
    """The queue's order: A, B, C."""
    return owner, teammate, third


@pytest.fixture
def roster(receptionist, trio):
    return services.roster_set(actor=receptionist, salesperson_ids=[u.pk for u in trio])


@pytest.fixture
def desk(receptionist, roster):
    return Desk(receptionist)
