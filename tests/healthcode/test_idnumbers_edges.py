"""ID numbers, phones, region codes and citizen cards: each refusal's exact code and message
(the form and the API show the message next to the field, clients switch on the code), and the
edges of each rule. Written against the surviving mutants of ``make mutants``."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from healthcode.idnumbers import (
    IdType,
    ResidentIdInfo,
    clean_citizen_card,
    clean_id_number,
    clean_phone,
    clean_region_code,
    normalise,
    parse_resident_id,
    resident_id_check_char,
)

TODAY = dt.date(2026, 11, 22)


def _id(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


def refusal(call, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(ValidationError) as exc:
        call(*args, **kwargs)
    assert len(exc.value.messages) == 1
    return exc.value.code, exc.value.messages[0]


FORMAT = "居民身份证号码应为18位：17位数字加1位数字或X。"
REGION = "身份证号码的地区码无效。"
NO_SUCH_BIRTH = "身份证号码中的出生日期不存在。"


@pytest.mark.parametrize(
    ("id_type", "raw", "code", "message"),
    [
        (IdType.RESIDENT_ID, "", "required", "请填写证件号码。"),
        (IdType.PASSPORT, "  ", "required", "请填写证件号码。"),
        ("library_card", "12345678", "id_type", "请选择证件类型。"),
        ("", "12345678", "id_type", "请选择证件类型。"),
        (IdType.RESIDENT_ID, "1101051949123100", "id_format", FORMAT),
        (IdType.RESIDENT_ID, "11010519491231002Y", "id_format", FORMAT),
        (IdType.RESIDENT_ID, _id("99010519491231002"), "id_region", REGION),
        (IdType.RESIDENT_ID, _id("11000019491231002"), "id_region", REGION),
        (IdType.RESIDENT_ID, _id("11010520230230001"), "id_birth", NO_SUCH_BIRTH),
        (IdType.RESIDENT_ID, _id("11010517991231001"), "id_birth", NO_SUCH_BIRTH),
        (
            IdType.RESIDENT_ID,
            _id("11010520261123001"),
            "id_birth_future",
            "身份证号码中的出生日期晚于今天。",
        ),
        (
            IdType.RESIDENT_ID,
            "110105194912310021",
            "id_checksum",
            "身份证号码校验位不正确，请逐位核对。",
        ),
        (IdType.PASSPORT, "E12", "id_format", "护照号码应为5至17位字母或数字。"),
        (
            IdType.HK_MACAO_PERMIT,
            "X12345678",
            "id_format",
            "港澳居民来往内地通行证号码应为H或M开头，后接8位或10位数字。",
        ),
        (
            IdType.TAIWAN_PERMIT,
            "123456789",
            "id_format",
            "台湾居民来往大陆通行证号码应为8位或10位数字。",
        ),
        (
            IdType.FOREIGN_PERMANENT,
            "US1100501012345",
            "id_format",
            "外国人永久居留身份证号码应为3位字母加12位数字，或以9开头的18位号码。",
        ),
        (
            IdType.FOREIGN_PERMANENT,
            "933100199001010010",
            "id_checksum",
            "证件号码校验位不正确，请逐位核对。",
        ),
    ],
)
def test_each_refusal_has_its_code_and_chinese_message(id_type, raw, code, message):
    assert refusal(clean_id_number, id_type, raw, today=TODAY) == (code, message)


def test_the_earliest_birth_date_is_1_january_1800():
    first = _id("11010518000101001")
    assert parse_resident_id(first, today=TODAY).birth_date == dt.date(1800, 1, 1)
    assert refusal(parse_resident_id, _id("11010517991231001"), today=TODAY) == (
        "id_birth",
        NO_SUCH_BIRTH,
    )


def test_a_region_with_zeros_after_the_province_only_in_part_is_accepted():
    # Only "0000" after the province is no region; 110001 or 110100 are codes of their own.
    for first17 in ("11000119491231002", "11010019491231002"):
        assert parse_resident_id(_id(first17), today=TODAY).region_code == first17[:6]


def test_what_the_number_says_about_its_holder():
    info = parse_resident_id(_id("32010619850607123"), today=TODAY)
    assert info == ResidentIdInfo(region_code="320106", birth_date=dt.date(1985, 6, 7), sex="M")
    # The 17th digit decides the sex: odd men, even women (3 and 4, not only 1 and 2).
    assert parse_resident_id(_id("32010619850607124"), today=TODAY).sex == "F"
    assert parse_resident_id(_id("32010619850607120"), today=TODAY).sex == "F"
    assert parse_resident_id(_id("32010619850607129"), today=TODAY).sex == "M"


def test_age_turns_over_on_the_birthday_itself():
    info = ResidentIdInfo(region_code="110105", birth_date=dt.date(2000, 6, 15), sex="F")
    assert info.age_on(dt.date(2018, 6, 14)) == 17
    assert info.age_on(dt.date(2018, 6, 15)) == 18
    assert info.age_on(dt.date(2018, 5, 16)) == 17  # an earlier month, a later day
    assert info.age_on(dt.date(2018, 7, 1)) == 18  # a later month, an earlier day


def test_the_check_character_follows_the_gb_11643_weights():
    number = "11010519491231002X"
    assert resident_id_check_char(number[:17]) == "X"
    assert resident_id_check_char("44052418800101001") == "4"
    # The weights are those of GB 11643: a sum of 0 mod 11 gives "1", 2 gives "X".
    assert resident_id_check_char("0" * 17) == "1"
    assert resident_id_check_char("0" * 16 + "1") == "X"  # 1 × the last weight, 2
    assert resident_id_check_char("0" * 16 + "2") == "8"  # 4
    assert resident_id_check_char("1" + "0" * 16) == "5"  # the first weight, 7


@pytest.mark.parametrize("digits", ["1" * 16, "1" * 18])
def test_the_check_character_needs_exactly_17_digits(digits):
    with pytest.raises(ValueError):
        resident_id_check_char(digits)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("ab12", "AB12"),
        ("ab 12", "AB12"),
        (" a\tb\n12 ", "AB12"),
        ("ａｂ１２", "AB12"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise(raw, clean):
    assert normalise(raw) == clean


def test_other_documents_keep_their_canonical_form():
    assert clean_id_number(IdType.PASSPORT, " e1234 5678 ", today=TODAY) == "E12345678"
    assert clean_id_number(IdType.TAIWAN_PERMIT, "1234567890", today=TODAY) == "1234567890"
    foreign = _id("93310019900101001")
    assert clean_id_number(IdType.FOREIGN_PERMANENT, foreign.lower(), today=TODAY) == foreign


def test_a_phone_refusal_says_so():
    assert refusal(clean_phone, "1381234123") == ("phone", "请输入11位中国大陆手机号码。")
    assert clean_phone("(138) 1234 1234") == "13812341234"
    assert clean_phone("+8613812341234") == "13812341234"
    assert refusal(clean_phone, "") == ("phone", "请输入11位中国大陆手机号码。")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("11010", "行政区划代码应为6位数字，例如 110105。"),
        ("11010a", "行政区划代码应为6位数字，例如 110105。"),
        ("990105", "请填写区县一级的行政区划代码（末两位不为00），例如 110105。"),
        ("110100", "请填写区县一级的行政区划代码（末两位不为00），例如 110105。"),
    ],
)
def test_region_code_refusals(raw, message):
    assert refusal(clean_region_code, raw) == ("region", message)


def test_a_region_code_is_normalised():
    assert clean_region_code(" １１０１０５ ") == "110105"
    assert clean_region_code("110001") == "110001"  # the last two digits decide, not the middle


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("ab1234", "AB1234"), (" 3301 0600 1234 ", "330106001234"), ("A" * 20, "A" * 20)],
)
def test_citizen_card_numbers(raw, clean):
    assert clean_citizen_card(raw) == clean


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        ("", "required", "请填写市民卡号。"),
        ("   ", "required", "请填写市民卡号。"),
        ("12345", "citizen_card", "市民卡号应为6至20位字母或数字。"),
        ("1" * 21, "citizen_card", "市民卡号应为6至20位字母或数字。"),
        ("A123-4567", "citizen_card", "市民卡号应为6至20位字母或数字。"),
    ],
)
def test_citizen_card_refusals(raw, code, message):
    assert refusal(clean_citizen_card, raw) == (code, message)
