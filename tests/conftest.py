"""Shared fixtures: an organisation with two branches and a user for every role.

The three people of STYLE.md: `owner` (sales1, owns customers), `teammate` (sales2, same
department), `outsider` (sales3, another branch).
"""

import pytest
from django.conf import settings

from guanxi.core.models import OrgUnit, Role, User, UserRole
from guanxi.customers.services import customer_create

PASSWORD = "correct-horse-battery-42"


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Tests render templates without a collectstatic manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _english(settings):
    """Assertions on messages read English unless a test asks for Chinese."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def org(db):
    hq = OrgUnit.objects.create(name="总部", kind=OrgUnit.Kind.HEAD_OFFICE)
    bj = OrgUnit.objects.create(name="北京分店", kind=OrgUnit.Kind.BRANCH, parent=hq)
    sh = OrgUnit.objects.create(name="上海分店", kind=OrgUnit.Kind.BRANCH, parent=hq)
    bj_sales = OrgUnit.objects.create(name="北京销售部", kind=OrgUnit.Kind.DEPARTMENT, parent=bj)
    sh_sales = OrgUnit.objects.create(name="上海销售部", kind=OrgUnit.Kind.DEPARTMENT, parent=sh)
    return {"hq": hq, "bj": bj, "sh": sh, "bj_sales": bj_sales, "sh_sales": sh_sales}


def make_user(username: str, unit: OrgUnit, *roles: str, display_name: str = "") -> User:
    user = User.objects.create_user(
        username=username, password=PASSWORD, org_unit=unit, display_name=display_name or username
    )
    UserRole.objects.bulk_create(UserRole(user=user, role=r) for r in roles)
    return User.objects.get(pk=user.pk)


@pytest.fixture
def admin_user(org):
    return make_user("admin", org["hq"], Role.ADMIN, display_name="管理员")


@pytest.fixture
def manager(org):
    """Manager of the Beijing branch: sees everything under it."""
    return make_user("manager", org["bj"], Role.MANAGER, display_name="王经理")


@pytest.fixture
def sh_manager(org):
    return make_user("sh_manager", org["sh"], Role.MANAGER, display_name="刘经理")


@pytest.fixture
def owner(org):
    return make_user("sales1", org["bj_sales"], Role.SALES, display_name="张伟")


@pytest.fixture
def teammate(org):
    return make_user("sales2", org["bj_sales"], Role.SALES, display_name="李娜")


@pytest.fixture
def outsider(org):
    return make_user("sales3", org["sh_sales"], Role.SALES, display_name="陈静")


@pytest.fixture
def receptionist(org):
    return make_user("reception", org["bj"], Role.RECEPTIONIST)


@pytest.fixture
def service_agent(org):
    return make_user("service", org["bj"], Role.SERVICE)


@pytest.fixture
def marketer(org):
    return make_user("marketer", org["bj"], Role.MARKETER)


@pytest.fixture
def finance(org):
    return make_user("finance", org["bj"], Role.FINANCE)


def new_customer(actor: User, name: str = "张三", phones=("13812345678",), **data):
    """A customer created through the service, as the UI would."""
    return customer_create(
        actor=actor, data={"name": name, **data}, phones=list(phones), allow_similar=True
    )


@pytest.fixture
def customer(owner):
    """张三, owned by sales1, with an ID number and income (sensitive fields)."""
    return new_customer(
        owner,
        "张三",
        ("13812345678",),
        id_number="110101199001011234",
        annual_income="350000.00",
        email="zhangsan@example.cn",
        company="华强电子",
    )


@pytest.fixture
def api_client(client):
    """Django's test client; JSON helpers live on it as client.post(..., content_type=...)."""
    return client


assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """SQLite tests run on a database file, as production does, not a shared in-memory one.

    Threads (the concurrency tests) then wait for the write lock through WAL and the busy
    timeout instead of failing at once with "database table is locked".
    """
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3" and not db.get("TEST", {}).get("NAME"):
        db.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")
