"""What a column can be imported into, and the header words that recognise it.

Headers are matched after folding (full-width → half-width), lower-casing and dropping
decorations such as "*", "（必填）" or "：". Exact synonyms first, then the longest synonym
contained in the header (客户手机号 → phone).
"""

import hashlib
import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from guanxi.customers.keys import fold


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    synonyms: tuple[str, ...]
    multiple: bool = False  # several columns may feed it (phones)


IGNORE = "ignore"

CUSTOMER_TARGETS = [
    Target(
        "name",
        _("Name"),
        (
            "姓名",
            "名字",
            "客户名称",
            "客户姓名",
            "客户名",
            "客戶名稱",
            "客戶姓名",
            "客戶",
            "名称",
            "客户",
            "name",
            "full name",
            "customer",
            "customer name",
            "contact name",
            "name of customer",
            "client",
        ),
    ),
    Target(
        "phone",
        _("Phone"),
        (
            "手机",
            "手机号",
            "手机号码",
            "移动电话",
            "电话",
            "联系电话",
            "电话号码",
            "座机",
            "固定电话",
            "固话",
            "联系方式",
            "phone",
            "mobile",
            "cell",
            "tel",
            "telephone",
            "phone number",
            "mobile phone",
            "手機",
            "手機號",
            "手機號碼",
            "行動電話",
            "電話",
            "聯絡電話",
            "聯繫電話",
            "電話號碼",
            "固定電話",
            "mobile number",
            "phone no",
            "tel no",
            "contact number",
            "telephone number",
            "cell phone",
        ),
        multiple=True,
    ),
    Target(
        "email",
        _("E-mail"),
        (
            "邮箱",
            "电子邮件",
            "电子邮箱",
            "邮件",
            "電郵",
            "電子郵件",
            "電子郵箱",
            "郵箱",
            "email",
            "e-mail",
            "mail",
            "email address",
            "e-mail address",
            "mail address",
        ),
    ),
    Target(
        "company",
        _("Company"),
        (
            "公司",
            "公司名称",
            "单位",
            "工作单位",
            "单位名称",
            "企业",
            "企业名称",
            "公司名稱",
            "單位",
            "單位名稱",
            "企業名稱",
            "company name",
            "organisation name",
            "organization name",
            "company",
            "organisation",
            "organization",
            "employer",
        ),
    ),
    Target(
        "title",
        _("Job title"),
        ("职务", "职位", "头衔", "職務", "職位", "職稱", "title", "job title", "position"),
    ),
    Target(
        "birthday",
        _("Birthday"),
        (
            "生日",
            "出生日期",
            "出生年月",
            "出生年月日",
            "出生年月日期",
            "birthday",
            "date of birth",
            "dob",
            "birth date",
            "birthdate",
        ),
    ),
    Target("gender", _("Gender"), ("性别", "性別", "gender", "sex")),
    Target("wechat_id", _("WeChat ID"), ("微信", "微信号", "wechat", "wechat id", "weixin")),
    Target(
        "id_number",
        _("ID number"),
        ("身份证", "身份证号", "身份证号码", "证件号", "证件号码", "id number", "id card"),
    ),
    Target("province", _("Province"), ("省", "省份", "province")),
    Target("city", _("City"), ("市", "城市", "city")),
    Target("district", _("District"), ("区", "区县", "县区", "区/县", "district", "county")),
    Target(
        "address",
        _("Street address"),
        (
            "地址",
            "详细地址",
            "住址",
            "联系地址",
            "通讯地址",
            "詳細地址",
            "聯絡地址",
            "通訊地址",
            "address",
            "street",
            "street address",
        ),
    ),
    Target(
        "segment",
        _("Segment"),
        ("客户类型", "客户分类", "分类", "类型", "细分", "segment", "customer type", "type"),
    ),
    Target("source", _("Source"), ("来源", "客户来源", "渠道", "source", "lead source")),
    Target("stage", _("Stage"), ("阶段", "客户阶段", "stage")),
    Target("kind", _("Person or organisation"), ("客户性质", "性质", "kind")),
    Target("tags", _("Tags"), ("标签", "tags", "tag", "labels")),
    Target(
        "notes",
        _("Notes"),
        ("备注", "说明", "备忘", "備註", "說明", "notes", "note", "remarks", "comment"),
    ),
    Target(
        "owner",
        _("Owner (username or name)"),
        (
            "负责人",
            "归属",
            "归属人",
            "业务员",
            "销售",
            "销售员",
            "置业顾问",
            "客户经理",
            "跟进人",
            "所属销售",
            "owner",
            "salesperson",
            "sales rep",
            "account manager",
        ),
    ),
    Target(
        "external_id",
        _("External ID (your own customer number)"),
        (
            "客户编号",
            "编号",
            "客户号",
            "客户id",
            "客户代码",
            "会员号",
            "会员编号",
            "id",
            "customer id",
            "external id",
            "code",
            "ref",
        ),
    ),
    Target("annual_income", _("Annual income (CNY)"), ("年收入", "annual income", "income")),
]

INTERACTION_TARGETS = [
    Target(
        "customer_phone",
        _("Customer phone"),
        (
            "手机",
            "手机号",
            "手机号码",
            "电话",
            "联系电话",
            "客户电话",
            "客户手机",
            "phone",
            "mobile",
            "customer phone",
        ),
        multiple=True,
    ),
    Target("customer_email", _("Customer e-mail"), ("邮箱", "电子邮件", "email", "e-mail")),
    Target(
        "customer_ref",
        _("Customer external ID"),
        ("客户编号", "编号", "客户号", "客户id", "customer id", "external id"),
    ),
    Target(
        "kind",
        _("Kind of contact"),
        ("类型", "方式", "联系方式", "接触方式", "跟进方式", "kind", "type", "channel"),
    ),
    Target(
        "occurred_at",
        _("When"),
        (
            "时间",
            "日期",
            "联系时间",
            "跟进时间",
            "发生时间",
            "联系日期",
            "跟进日期",
            "date",
            "time",
            "when",
            "occurred at",
        ),
    ),
    Target(
        "summary",
        _("Summary"),
        (
            "内容",
            "摘要",
            "记录",
            "沟通内容",
            "跟进内容",
            "小结",
            "备注",
            "summary",
            "content",
            "notes",
        ),
    ),
    Target("outcome", _("Outcome"), ("结果", "outcome", "result")),
    Target("next_step", _("Next step"), ("下一步", "下步计划", "下一步计划", "next step")),
    Target(
        "actor",
        _("By (username or name)"),
        ("员工", "经办人", "跟进人", "负责人", "销售", "业务员", "by", "staff", "user"),
    ),
]

TARGETS = {"customers": CUSTOMER_TARGETS, "interactions": INTERACTION_TARGETS}

_DECORATION = re.compile(r"[\(（\[【].*?[\)）\]】]|[*＊:：\s_#]")


def normalise_header(header) -> str:
    text = fold(str(header or "")).lower()
    return _DECORATION.sub("", text) or text.strip()


def targets_for(kind: str) -> list[Target]:
    return TARGETS[kind]


def target_keys(kind: str) -> set[str]:
    return {t.key for t in TARGETS[kind]}


def guess_target(kind: str, header, exact: bool = False) -> str:
    """The target a header names, or IGNORE. `exact`: only whole synonyms count."""
    text = normalise_header(header)
    if not text:
        return IGNORE
    targets = TARGETS[kind]
    for target in targets:
        if text in (normalise_header(s) for s in target.synonyms):
            return target.key
    if exact:
        return IGNORE
    # Contained synonyms: the longest, and among equals the one ending last, since the
    # head noun of a Chinese header comes last (客户手机 is a phone, 手机客户 a customer).
    best, best_score = IGNORE, (0, 0)
    for target in targets:
        for synonym in target.synonyms:
            word = normalise_header(synonym)
            # Short Latin words (id, tel) only as whole words: "valid" is not "id".
            if len(word) < 2 or (word.isascii() and not re.search(rf"\b{re.escape(word)}\b", text)):
                continue
            at = text.rfind(word)
            if at >= 0 and (len(word), at + len(word)) > best_score:
                best, best_score = target.key, (len(word), at + len(word))
    return best


def auto_mapping(kind: str, headers: list[str]) -> dict[str, str]:
    """{column index: target} for the headers; a single-valued target goes to its first
    column only."""
    mapping, used = {}, set()
    multiple = {t.key for t in TARGETS[kind] if t.multiple}
    for index, header in enumerate(headers):
        target = guess_target(kind, header)
        if target == IGNORE or (target in used and target not in multiple):
            continue
        used.add(target)
        mapping[str(index)] = target
    return mapping


def header_signature(headers: list[str]) -> str:
    joined = "\x1f".join(normalise_header(h) for h in headers)
    return hashlib.sha1(joined.encode()).hexdigest()
