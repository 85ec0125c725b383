"""统一社会信用代码 check digit (GB 32100-2015)."""

import pytest

from venues import creditcode
from venues.creditcode import ALPHABET, CreditCodeInvalid

# Known valid codes. The first is the worked example of GB 32100-2015; the others are
# published on business licences (华为技术有限公司, 深圳市腾讯计算机系统有限公司, 小米科技
# 有限责任公司, 北京百度网讯科技有限公司). Each was recalled from those public sources and
# then confirmed by the check character; a wrongly recalled code would pass by chance with
# probability 1/31.
KNOWN_VALID = [
    "91350100M000100Y43",
    "914403001922038216",
    "91440300708461136T",
    "91110108551385082Q",
    "91110000802100433B",
]


def test_the_weights_are_the_standards_table():
    # GB 32100-2015, 表 2: W_i = 3^(i-1) mod 31.
    assert creditcode.WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert len(ALPHABET) == 31 and not set("IOSVZ") & set(ALPHABET)


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_valid_codes(code):
    assert creditcode.clean(code) == code
    assert creditcode.check_char(code[:17]) == code[17]


def test_a_check_value_of_31_is_written_0():
    # 17 zeros sum to 0: 31 - 0 = 31 → "0".
    assert creditcode.check_char("0" * 17) == "0"


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_every_single_character_change_is_caught(code):
    for position in range(18):
        for replacement in ALPHABET:
            if replacement == code[position]:
                continue
            changed = code[:position] + replacement + code[position + 1 :]
            assert not creditcode.is_valid(changed), changed


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_adjacent_swaps_among_the_first_17_are_caught(code):
    for i in range(16):
        if code[i] != code[i + 1]:
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            assert not creditcode.is_valid(swapped), swapped


def test_pasted_forms_are_normalised():
    assert creditcode.clean(" 91350100m000100y43 ") == "91350100M000100Y43"
    assert creditcode.clean("9135-0100 M000 100Y43") == "91350100M000100Y43"
    assert creditcode.clean("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "length"),
        ("91350100M000100Y4", "length"),
        ("91350100M000100Y433", "length"),
        ("91350100M000100O43", "format"),  # O is not in the alphabet
        ("9135010AM000100Y4X", "format"),  # the division code must be digits
        ("91350100M000100Y44", "check"),
    ],
)
def test_malformed_codes_say_what_is_wrong(raw, problem):
    with pytest.raises(CreditCodeInvalid) as exc:
        creditcode.clean(raw)
    assert exc.value.problem == problem
