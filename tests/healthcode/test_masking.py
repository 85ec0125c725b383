from hypothesis import given, settings
from hypothesis import strategies as st

from healthcode.masking import mask_id_number, mask_name, mask_phone

han = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
# Every property runs without a per-example deadline, as in test_engine.py: a busy machine
# is slow, not wrong.


def test_examples():
    assert mask_name("张某三") == "张*三"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳小明") == "欧**明"
    assert mask_name("张") == "*"
    assert mask_name("买买提·艾力") == "买**·**"
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert mask_phone("13812341234") == "138****1234"


@settings(deadline=None)
@given(st.text(han, min_size=3, max_size=12))
def test_long_chinese_names_keep_first_and_last_only(name):
    masked = mask_name(name)
    assert len(masked) == len(name)
    assert masked[0] == name[0] and masked[-1] == name[-1]
    assert set(masked[1:-1]) == {"*"}


@settings(deadline=None)
@given(st.text(han, min_size=2, max_size=2))
def test_two_character_names_keep_the_surname(name):
    assert mask_name(name) == name[0] + "*"


@settings(deadline=None)
@given(st.lists(st.text(han, min_size=1, max_size=6), min_size=2, max_size=4))
def test_middle_dot_names_keep_only_the_first_character_and_the_dots(parts):
    name = "·".join(parts)
    masked = mask_name(name)
    assert masked[0] == name[0]
    assert len(masked) == len(name)
    assert [i for i, c in enumerate(masked) if c == "·"] == [
        i for i, c in enumerate(name) if c == "·"
    ]
    assert set(masked[1:].replace("·", "")) <= {"*"}


@settings(deadline=None)
@given(st.text(alphabet="0123456789X", min_size=16, max_size=18))
def test_id_numbers_show_four_and_four(number):
    masked = mask_id_number(number)
    assert masked[:4] == number[:4] and masked[-4:] == number[-4:]
    assert set(masked[4:-4]) <= {"*"} and len(masked) == len(number)


@settings(deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGH", min_size=1, max_size=15))
def test_short_documents_never_show_more_than_half(number):
    masked = mask_id_number(number)
    assert len(masked) == len(number)
    assert sum(ch != "*" for ch in masked) <= len(number) // 2


@settings(deadline=None)
@given(st.from_regex(r"1[3-9]\d{9}", fullmatch=True))
def test_phones(phone):
    assert mask_phone(phone) == phone[:3] + "****" + phone[-4:]
