"""统一社会信用代码 (unified social credit code), GB 32100-2015. Pure: no Django, no I/O.

18 characters from a 31-character alphabet (digits and capitals without I, O, S, V, Z):

    1      registration authority (登记管理部门码)
    2      kind of organisation (机构类别码)
    3–8    administrative division (登记管理机关行政区划码), 6 digits
    9–17   organisation code (主体标识码, GB 11714)
    18     check character

The check character: each of the first 17 characters has its value (its index in the
alphabet) multiplied by the weight 3^(i-1) mod 31 (1, 3, 9, 27, 19, 26, …); the check value
is 31 - (sum mod 31), with 31 written as 0. Because 31 is prime and no weight is 0 mod 31,
any single changed character is caught; an adjacent swap of two different characters among
the first 17 is caught too (the weights of neighbours differ).
"""

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
LENGTH = 18
WEIGHTS = tuple(pow(3, i, 31) for i in range(LENGTH - 1))
_VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
# Full-width digits and letters (typed on a Chinese keyboard) become ASCII.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


class CreditCodeInvalid(ValueError):
    """Not a well-formed 统一社会信用代码; ``problem`` says what is wrong."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def check_char(first17: str) -> str:
    """The check character (18th) for the first 17 characters."""
    if len(first17) != LENGTH - 1 or any(ch not in _VALUES for ch in first17):
        raise CreditCodeInvalid("format")
    total = sum(_VALUES[ch] * weight for ch, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise(raw: str) -> str:
    """Upper case, ASCII, without spaces or hyphens: what people paste from a licence."""
    text = (raw or "").translate(_FULL_WIDTH).replace("\u3000", "")
    return "".join(text.split()).replace("-", "").upper()


def clean(raw: str) -> str:
    """The normalised code, or ``CreditCodeInvalid`` with ``problem``: "length", "format"
    (a character outside the alphabet, or a division code that is not 6 digits) or
    "check" (the check character does not match)."""
    code = normalise(raw)
    if len(code) != LENGTH:
        raise CreditCodeInvalid("length")
    if any(ch not in _VALUES for ch in code) or not code[2:8].isdigit():
        raise CreditCodeInvalid("format")
    if check_char(code[:17]) != code[17]:
        raise CreditCodeInvalid("check")
    return code


def is_valid(raw: str) -> bool:
    try:
        clean(raw)
    except CreditCodeInvalid:
        return False
    return True
