"""Identity documents, phone numbers and region codes: normalising and checking them.

Pure functions, no ORM. Each check raises ``django.core.exceptions.ValidationError`` with a
Chinese message meant to stand next to the field; the registration form and the API
serializer both call these, so the rules exist once.

Mainland resident ID numbers follow GB 11643-1999: six-digit region (GB/T 2260), eight-digit
birth date, three-digit sequence (odd for men, even for women) and a MOD 11-2 check character.
"""

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    PASSPORT = "passport", _("护照")
    HK_MACAO_PERMIT = "hk_macao_permit", _("港澳居民来往内地通行证")
    TAIWAN_PERMIT = "taiwan_permit", _("台湾居民来往大陆通行证")
    FOREIGN_PERMANENT = "foreign_permanent", _("外国人永久居留身份证")


# GB/T 2260 province-level codes (first two digits of a region code and a resident ID).
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)

_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTH = dt.date(1800, 1, 1)


def normalise(raw: str) -> str:
    """Full-width to ASCII (NFKC), spaces removed, letters upper-cased."""
    raw = raw or ""
    if raw.isascii() and raw.isalnum():  # the common case needs no Unicode normalisation
        return raw.upper()
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw or "")).upper()


def resident_id_check_char(first17: str) -> str:
    """The MOD 11-2 check character of GB 11643-1999 for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


@dataclass(frozen=True)
class ResidentIdInfo:
    region_code: str
    birth_date: dt.date
    sex: str  # "M" or "F"

    def age_on(self, day: dt.date) -> int:
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


def parse_resident_id(number: str, *, today: dt.date) -> ResidentIdInfo:
    """Check a normalised 18-character resident ID; return what it says about its holder."""
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise ValidationError(_("居民身份证号码应为18位：17位数字加1位数字或X。"), code="id_format")
    if number[:2] not in PROVINCE_CODES or number[2:6] == "0000":
        raise ValidationError(_("身份证号码的地区码无效。"), code="id_region")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("身份证号码中的出生日期不存在。"), code="id_birth") from None
    if birth > today:
        raise ValidationError(_("身份证号码中的出生日期晚于今天。"), code="id_birth_future")
    if birth < _EARLIEST_BIRTH:
        raise ValidationError(_("身份证号码中的出生日期不存在。"), code="id_birth")
    if resident_id_check_char(number[:17]) != number[17]:
        raise ValidationError(_("身份证号码校验位不正确，请逐位核对。"), code="id_checksum")
    return ResidentIdInfo(
        region_code=number[:6],
        birth_date=birth,
        sex="M" if int(number[16]) % 2 else "F",
    )


_OTHER_ID_PATTERNS: dict[str, tuple[re.Pattern, str]] = {
    IdType.PASSPORT: (
        re.compile(r"[A-Z0-9]{5,17}"),
        _("护照号码应为5至17位字母或数字。"),
    ),
    IdType.HK_MACAO_PERMIT: (
        re.compile(r"[HM]\d{8}(\d{2})?"),
        _("港澳居民来往内地通行证号码应为H或M开头，后接8位或10位数字。"),
    ),
    IdType.TAIWAN_PERMIT: (
        re.compile(r"\d{8}(\d{2})?"),
        _("台湾居民来往大陆通行证号码应为8位或10位数字。"),
    ),
    IdType.FOREIGN_PERMANENT: (
        # 2004 edition: three letters (nationality) + 12 digits; 2017 edition: 18 characters
        # starting with 9 and carrying the same MOD 11-2 check character as resident IDs.
        re.compile(r"[A-Z]{3}\d{12}|9\d{16}[\dX]"),
        _("外国人永久居留身份证号码应为3位字母加12位数字，或以9开头的18位号码。"),
    ),
}


def clean_id_number(id_type: str, raw: str, *, today: dt.date) -> str:
    """Return the canonical form of an ID number of the given type, or raise ValidationError."""
    number = normalise(raw)
    if not number:
        raise ValidationError(_("请填写证件号码。"), code="required")
    if id_type == IdType.RESIDENT_ID:
        parse_resident_id(number, today=today)
        return number
    if id_type not in _OTHER_ID_PATTERNS:
        raise ValidationError(_("请选择证件类型。"), code="id_type")
    pattern, message = _OTHER_ID_PATTERNS[id_type]
    if not pattern.fullmatch(number):
        raise ValidationError(message, code="id_format")
    if len(number) == 18 and resident_id_check_char(number[:17]) != number[17]:
        raise ValidationError(_("证件号码校验位不正确，请逐位核对。"), code="id_checksum")
    return number


def clean_phone(raw: str) -> str:
    """A mainland mobile number, 11 digits starting 13–19; +86/0086 and separators dropped."""
    phone = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", raw or ""))
    phone = re.sub(r"^(\+86|0086)", "", phone)
    if not re.fullmatch(r"1[3-9]\d{9}", phone):
        raise ValidationError(_("请输入11位中国大陆手机号码。"), code="phone")
    return phone


def clean_region_code(raw: str) -> str:
    """A county-level GB/T 2260 administrative region code: six digits, e.g. 110105."""
    code = normalise(raw)
    if not re.fullmatch(r"\d{6}", code):
        raise ValidationError(_("行政区划代码应为6位数字，例如 110105。"), code="region")
    if code[:2] not in PROVINCE_CODES or code[4:] == "00":
        raise ValidationError(
            _("请填写区县一级的行政区划代码（末两位不为00），例如 110105。"), code="region"
        )
    return code


_NAME_DOTS = "·•‧・･."  # the middle dots people type; stored as U+00B7


@functools.lru_cache(maxsize=4096)  # pure; batches repeat names
def clean_name(raw: str) -> str:
    """A real name as on the document: Chinese (with a middle dot) or Latin letters."""
    name = unicodedata.normalize("NFKC", raw or "").strip()
    name = re.sub(f"\\s*[{re.escape(_NAME_DOTS)}]\\s*", "·", name)
    name = re.sub(r"\s+", " ", name)
    if not name:
        raise ValidationError(_("请填写姓名。"), code="required")
    if len(name) > 64:
        raise ValidationError(_("姓名过长（最多64个字符）。"), code="name")
    if not re.fullmatch(r"[\u3400-\u9fff\uf900-\ufaffA-Za-z·' \-]+", name) or name[0] in "·' -":
        raise ValidationError(
            _("姓名只能包含汉字、字母、间隔号“·”、空格、连字符或撇号。"), code="name"
        )
    return name


def clean_citizen_card(raw: str) -> str:
    """A 市民卡 (citizen card) number: 6 to 20 letters or digits once spaces are dropped and
    letters upper-cased (cities print them differently: Hangzhou's are digits, others carry a
    letter prefix; the format is deliberately loose, the name check does the matching)."""
    number = normalise(raw)
    if not number:
        raise ValidationError(_("请填写市民卡号。"), code="required")
    if not re.fullmatch(r"[0-9A-Z]{6,20}", number):
        raise ValidationError(_("市民卡号应为6至20位字母或数字。"), code="citizen_card")
    return number
