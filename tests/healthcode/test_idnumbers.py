import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from healthcode.idnumbers import (
    IdType,
    clean_id_number,
    clean_name,
    clean_phone,
    clean_region_code,
    parse_resident_id,
    resident_id_check_char,
)

TODAY = dt.date(2026, 11, 22)
# The two examples printed in GB 11643-1999 itself.
STANDARD_EXAMPLES = ["11010519491231002X", "440524188001010014"]


def _id(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


@pytest.mark.parametrize("number", STANDARD_EXAMPLES)
def test_standard_examples_are_valid(number):
    assert clean_id_number(IdType.RESIDENT_ID, number, today=TODAY) == number


def test_birth_date_sex_and_age_come_from_the_number():
    info = parse_resident_id("11010519491231002X", today=TODAY)
    assert info.region_code == "110105"
    assert info.birth_date == dt.date(1949, 12, 31)
    assert info.sex == "F"  # sequence 002: even
    assert info.age_on(dt.date(2026, 12, 30)) == 76
    assert info.age_on(dt.date(2026, 12, 31)) == 77
    assert parse_resident_id("440524188001010014", today=TODAY).sex == "M"  # 001: odd


@pytest.mark.parametrize("number", STANDARD_EXAMPLES)
def test_every_single_character_change_is_rejected(number):
    alphabet = "0123456789X"
    changed = 0
    for position in range(18):
        for char in alphabet:
            if char == number[position]:
                continue
            mutated = number[:position] + char + number[position + 1 :]
            with pytest.raises(ValidationError):
                clean_id_number(IdType.RESIDENT_ID, mutated, today=TODAY)
            changed += 1
    assert changed == 18 * 10


def test_lower_case_x_and_full_width_digits_are_normalised():
    assert clean_id_number(IdType.RESIDENT_ID, "11010519491231002x", today=TODAY) == (
        "11010519491231002X"
    )
    full_width = "１１０１０５１９４９１２３１００２Ｘ"
    assert clean_id_number(IdType.RESIDENT_ID, full_width, today=TODAY) == "11010519491231002X"
    assert clean_id_number(IdType.RESIDENT_ID, " 110105 19491231 002X ", today=TODAY) == (
        "11010519491231002X"
    )


@pytest.mark.parametrize(
    ("birth", "valid"),
    [
        ("20000229", True),  # 2000: divisible by 400, leap
        ("20240229", True),  # leap
        ("20230229", False),  # not leap
        ("19000229", False),  # 1900: divisible by 100 only, not leap
        ("20230230", False),
        ("20231301", False),
        ("20230001", False),
    ],
)
def test_29_february_and_impossible_dates(birth, valid):
    number = _id(f"110105{birth}001")
    if valid:
        assert clean_id_number(IdType.RESIDENT_ID, number, today=TODAY) == number
    else:
        with pytest.raises(ValidationError) as exc:
            clean_id_number(IdType.RESIDENT_ID, number, today=TODAY)
        assert exc.value.code == "id_birth"


def test_birth_today_is_accepted_and_tomorrow_is_in_the_future():
    today = _id("11010520261122001")
    tomorrow = _id("11010520261123001")
    assert clean_id_number(IdType.RESIDENT_ID, today, today=TODAY) == today
    with pytest.raises(ValidationError) as exc:
        clean_id_number(IdType.RESIDENT_ID, tomorrow, today=TODAY)
    assert exc.value.code == "id_birth_future"
    assert "晚于今天" in exc.value.messages[0]


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("", "required"),
        ("1101051949123100", "id_format"),  # 16 characters
        ("11010519491231002XX", "id_format"),
        ("1101051949123100X2", "id_format"),  # X not last
        ("A1010519491231002X", "id_format"),
        (_id("99010519491231002"), "id_region"),  # no province 99
        (_id("11000019491231002"), "id_region"),
    ],
)
def test_malformed_resident_ids(number, code):
    with pytest.raises(ValidationError) as exc:
        clean_id_number(IdType.RESIDENT_ID, number, today=TODAY)
    assert exc.value.code == code


@pytest.mark.parametrize(
    ("id_type", "good", "bad"),
    [
        (IdType.PASSPORT, "e12345678", "E12"),
        (IdType.HK_MACAO_PERMIT, "H12345678", "X12345678"),
        (IdType.HK_MACAO_PERMIT, "M1234567890", "H1234567"),
        (IdType.TAIWAN_PERMIT, "12345678", "1234567"),
        (IdType.FOREIGN_PERMANENT, "USA110050101234", "US1100501012345"),
        (IdType.FOREIGN_PERMANENT, _id("93310019900101001"), "933100199001010010"),
    ],
)
def test_other_documents_get_format_checks(id_type, good, bad):
    assert clean_id_number(id_type, good, today=TODAY) == good.upper()
    with pytest.raises(ValidationError):
        clean_id_number(id_type, bad, today=TODAY)


def test_unknown_id_type_is_rejected():
    with pytest.raises(ValidationError):
        clean_id_number("library_card", "12345678", today=TODAY)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("13812341234", "13812341234"),
        ("+86 138-1234-1234", "13812341234"),
        ("008619912345678", "19912345678"),
        ("１３８１２３４１２３４", "13812341234"),
    ],
)
def test_phone_normalised(raw, clean):
    assert clean_phone(raw) == clean


@pytest.mark.parametrize("raw", ["", "1381234123", "23812341234", "12812341234", "138123412345"])
def test_bad_phone(raw):
    with pytest.raises(ValidationError) as exc:
        clean_phone(raw)
    assert "手机号码" in exc.value.messages[0]


@pytest.mark.parametrize("raw", ["110105", "330106", "810001"])
def test_region_codes(raw):
    assert clean_region_code(raw) == raw


@pytest.mark.parametrize("raw", ["", "11010", "990105", "110100", "11010a"])
def test_bad_region_codes(raw):
    with pytest.raises(ValidationError):
        clean_region_code(raw)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("张三", "张三"),
        (" 李 小红 ", "李 小红"),
        ("买买提•艾力", "买买提·艾力"),
        ("John  Smith", "John Smith"),
        ("阿卜杜拉 · 买买提", "阿卜杜拉·买买提"),
    ],
)
def test_names(raw, clean):
    assert clean_name(raw) == clean


@pytest.mark.parametrize("raw", ["", "   ", "张三1", "<script>", "·张三", "x" * 65])
def test_bad_names(raw):
    with pytest.raises(ValidationError):
        clean_name(raw)
