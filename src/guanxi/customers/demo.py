"""Fast generation of realistic customers for the demo and the benchmarks.

Rows go in with raw multi-row inserts (COPY on PostgreSQL), bypassing per-row ORM work:
pinyin keys are computed once per surname and given-name syllable, not per customer.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from pypinyin import lazy_pinyin

from .models import Customer, CustomerPhone, Household, Segment

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕飞鹏辉波宁健俊帆浩宇欣怡子"
    "涵梓轩晨阳佳琪雨萱博文思远嘉诚晓峰建国志明海燕春梅丹凤"
)
LATIN_FIRST = ["John", "Mary", "David", "Anna", "Peter", "Linda", "Tom", "Grace", "Kevin", "Lucy"]
LATIN_LAST = ["Smith", "Brown", "Wilson", "Taylor", "Miller", "Davis", "Clark", "Lewis"]
PLACES = [
    ("北京市", "北京市", ["朝阳区", "海淀区", "东城区", "丰台区"]),
    ("上海市", "上海市", ["浦东新区", "徐汇区", "静安区", "闵行区"]),
    ("广东省", "广州市", ["天河区", "越秀区", "海珠区"]),
    ("广东省", "深圳市", ["南山区", "福田区", "宝安区"]),
    ("浙江省", "杭州市", ["西湖区", "滨江区", "余杭区"]),
    ("四川省", "成都市", ["武侯区", "锦江区", "高新区"]),
    ("河南省", "郑州市", ["金水区", "二七区"]),
]
STREETS = ["人民路", "建设路", "解放大道", "中山路", "长安街", "科技园路", "和平里", "花园街"]
COMPANIES = ["华强电子", "恒信贸易", "鼎盛建设", "蓝天物流", "瑞丰科技", "金桥实业", "", "", "", ""]
MOBILE_PREFIXES = ["138", "139", "135", "150", "186", "177", "158", "189"]

_PINYIN = {ch: lazy_pinyin(ch)[0] for ch in SURNAMES + GIVEN}


def mobile_for(index: int) -> str:
    """A distinct valid mainland mobile for every index below 10^8."""
    body = (index * 7_654_321 + 12_345) % 100_000_000  # multiplier coprime to 10: a bijection
    return f"+86{MOBILE_PREFIXES[index % len(MOBILE_PREFIXES)]}{body:08d}"


def _person(rng: random.Random) -> tuple[str, str, str]:
    if rng.random() < 0.08:
        first, last = rng.choice(LATIN_FIRST), rng.choice(LATIN_LAST)
        return f"{first} {last}", (first + last).lower(), (first[0] + last[0]).lower()
    chars = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    syllables = [_PINYIN[c] for c in chars]
    return chars, "".join(syllables), "".join(s[0] for s in syllables)


CUSTOMER_COLUMNS = [
    "id",
    "kind",
    "name",
    "gender",
    "birthday",
    "email",
    "wechat_id",
    "id_number",
    "annual_income",
    "assets_note",
    "province",
    "city",
    "district",
    "address",
    "company",
    "title",
    "segment_id",
    "source",
    "referred_by_id",
    "household_id",
    "household_role",
    "notes",
    "stage",
    "relationship",
    "preferred_channel",
    "contact_window_start",
    "contact_window_end",
    "news_frequency",
    "do_not_contact",
    "consent_phone",
    "consent_sms",
    "consent_email",
    "consent_wechat",
    "consent_post",
    "owner_id",
    "org_unit_id",
    "name_pinyin",
    "name_initials",
    "company_key",
    "email_key",
    "primary_phone",
    "last_contact_at",
    "next_follow_up_at",
    "last_purchase_at",
    "order_count",
    "revenue",
    "points_balance",
    "created_at",
    "updated_at",
    "created_by_id",
    "archived_at",
    "merged_into_id",
]
HOUSEHOLD_AT = CUSTOMER_COLUMNS.index("household_id")
# Follow-up fields (C2) start empty: the cadence rules fill them in at the first contact.
FOLLOW_UP_DEFAULTS = {"follow_up_rule": "", "follow_up_step": ""}
PHONE_COLUMNS = ["id", "customer_id", "number", "national", "last4", "label", "is_primary"]


def generate_customers(*, count: int, owners: list, seed: int = 7, batch: int = 20_000) -> int:
    """Insert `count` customers spread over `owners` (users with an org unit); returns count."""
    rng = random.Random(seed)
    segments = list(Segment.objects.values_list("id", flat=True))
    start = (Customer.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    phone_start = (
        CustomerPhone.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ) + 1
    phone_offset = CustomerPhone.objects.count()
    now = timezone.now()
    stages = Customer.Stage.values
    relationships = Customer.Relationship.values
    sources = Customer.Source.values
    owner_rows = [(o.id, o.org_unit_id) for o in owners]
    household_base = Household.objects.order_by("-id").values_list("id", flat=True).first() or 0
    households: list[tuple] = []
    made = 0
    while made < count:
        size = min(batch, count - made)
        customers, phones = [], []
        first_household = len(households)
        for offset in range(size):
            n = made + offset
            cid = start + n
            name, full, initials = _person(rng)
            province, city, districts = rng.choice(PLACES)
            owner_id, unit_id = owner_rows[n % len(owner_rows)]
            phone = mobile_for(phone_offset + n)
            company = rng.choice(COMPANIES)
            email = f"c{cid}@example.cn" if rng.random() < 0.4 else ""
            referred_by = (
                cid - rng.randint(1, min(n, 50)) if n > 10 and rng.random() < 0.05 else None
            )
            household_id, household_role = None, ""
            if offset > 0 and n % 25 == 0:  # every 25th joins the previous customer's family
                household_id = household_base + len(households) + 1
                households.append((household_id, f"{customers[-1][2]}家", now))
                customers[-1][HOUSEHOLD_AT] = household_id
                customers[-1][HOUSEHOLD_AT + 1] = "head"
                household_role = "spouse"
            created = now - timedelta(days=rng.randint(0, 1500), minutes=rng.randint(0, 1440))
            customers.append(
                [
                    cid,
                    "person",
                    name,
                    rng.choice("mf"),
                    date(1950, 1, 1) + timedelta(days=rng.randint(0, 20000))
                    if rng.random() < 0.6
                    else None,
                    email,
                    "",
                    "",
                    Decimal(rng.randint(5, 200) * 10000) if rng.random() < 0.2 else None,
                    "",
                    province,
                    city,
                    rng.choice(districts),
                    f"{rng.choice(STREETS)}{rng.randint(1, 999)}号",
                    company,
                    "",
                    rng.choice(segments) if segments else None,
                    rng.choice(sources),
                    referred_by,
                    household_id,
                    household_role,
                    "",
                    rng.choice(stages),
                    rng.choice(relationships),
                    "",
                    None,
                    None,
                    "normal",
                    rng.random() < 0.02,
                    True,
                    True,
                    True,
                    True,
                    True,
                    owner_id,
                    unit_id,
                    full,
                    initials,
                    company.lower(),
                    email,
                    phone,
                    None,
                    now + timedelta(days=rng.randint(-10, 30)) if rng.random() < 0.5 else None,
                    None,
                    0,
                    Decimal("0.00"),
                    0,
                    created,
                    created,
                    None,
                    None,
                    None,
                ]
            )
            national = phone[3:]
            phones.append((phone_start + n, cid, phone, national, national[-4:], "mobile", True))
        _insert("customers_household", ["id", "name", "created_at"], households[first_household:])
        _insert(
            "customers_customer",
            CUSTOMER_COLUMNS + list(FOLLOW_UP_DEFAULTS),
            [(*row, *FOLLOW_UP_DEFAULTS.values()) for row in customers],
        )
        _insert("customers_customerphone", PHONE_COLUMNS, phones)
        made += size
    _reset_sequences()
    return made


def _insert(table: str, columns: list[str], rows: list) -> None:
    if not rows:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows
            )


def _reset_sequences() -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in ("customers_customer", "customers_customerphone", "customers_household"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
            )
