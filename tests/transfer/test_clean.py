"""The importer's fast paths agree with the forms' rules (guanxi.customers.keys)."""

import random
from datetime import date, datetime

import pytest

from guanxi.customers.keys import InvalidPhone, normalize_phone, pinyin_keys
from guanxi.transfer.clean import (
    CellError,
    clean_birthday,
    clean_phone,
    name_keys,
    parse_date_value,
)
from guanxi.transfer.fields import auto_mapping, guess_target


def test_mobile_fast_path_matches_phonenumbers():
    rng = random.Random(8)
    numbers = [f"1{rng.randint(0, 99):02d}{rng.randint(0, 99_999_999):08d}" for _ in range(3000)]
    numbers += [
        "+86 138 1234 5678",
        "0086-13812345678",
        "8613812345678",
        "010-62345678",
        "(0755) 8888 9999",
        "+1 415 555 0100",
        "１３８１２３４５６７８",
    ]
    for raw in numbers:
        try:
            expected = normalize_phone(raw)
        except InvalidPhone:
            expected = None
        try:
            got = clean_phone(raw)
        except CellError:
            got = None
        assert got == expected, raw


def test_name_keys_match_pinyin_keys():
    names = [
        "张三",
        "欧阳娜娜",
        "重庆",
        "单于",
        "长乐",
        "曾行",
        "John Smith",
        "张三A",
        "王 小明",
        "解小朝",
        "银行家",
        "乐乐",
        "Ａｌｉｃｅ",
        "北京华强电子有限公司",
    ]
    rng = random.Random(3)
    chars = "王李张刘陈杨黄赵单解查乐曾长重行朝和华伟芳娜秀英敏静丽强磊军洋"
    names += ["".join(rng.choice(chars) for _ in range(rng.randint(2, 4))) for _ in range(2000)]
    for name in names:
        assert name_keys(name) == pinyin_keys(name), name


@pytest.mark.parametrize(
    "raw",
    [
        "1985年3月2日",
        "1985/3/2",
        "1985-03-02",
        "1985.3.2",
        "19850302",
        "1985 年 3 月 2 日",
        "１９８５年３月２日",
        "1985-03-02 00:00:00",
        31108,
        19850302,
        datetime(1985, 3, 2, 8, 0),
    ],
)
def test_common_chinese_date_forms(raw):
    assert parse_date_value(raw)[0] == date(1985, 3, 2)


@pytest.mark.parametrize("raw", ["3/2/1985", "1985-13-01", "1985年2月30日", "yesterday", "85-3-2"])
def test_ambiguous_or_impossible_dates_are_refused(raw):
    with pytest.raises(CellError):
        clean_birthday(raw)


def test_header_words():
    assert guess_target("customers", "手机号码（必填）") == "phone"
    assert guess_target("customers", "客户手机") == "phone"
    assert guess_target("customers", "*姓名") == "name"
    assert guess_target("customers", "E-mail") == "email"
    assert guess_target("customers", "出生日期") == "birthday"
    assert guess_target("customers", "valid") == "ignore"
    assert auto_mapping("customers", ["姓名", "手机", "电话", "姓名"]) == {
        "0": "name",
        "1": "phone",
        "2": "phone",
    }
