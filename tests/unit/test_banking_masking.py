"""Personal data is masked in free text whatever its format; amounts, dates and a card's last four
are left alone. The property tests generate formatted variants and prove nothing leaks."""
import datetime as dt
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.banking.masking import id_check_digit, mask_card, mask_text, normalize


@pytest.mark.parametrize("raw, masked", [
    # resident ID numbers
    ("身份证110101199001010011", "身份证110***********0011"),
    ("证件号 44010119951212003X 请核对", "证件号 440***********003X 请核对"),
    ("证件号 44010119951212003x", "证件号 440***********003X"),
    ("身份证 110101 19900101 0011", "身份证 110***********0011"),
    ("身份证１１０１０１１９９００１０１００１１", "身份证110***********0011"),
    ("旧身份证110101900101001", "旧身份证110********1001"),
    # mobiles
    ("手机13800000001", "手机138****0001"),
    ("电话 +86 138-1234-5678 谢谢", "电话 +86 138****5678 谢谢"),
    ("电话(+86)13812345678", "电话+86 138****5678"),
    ("电话 0086 138 1234 5678", "电话 +86 138****5678"),
    ("电话 8613812345678", "电话 +86 138****5678"),
    ("电话（１３８）１２３４－５６７８", "电话（138****5678"),
    ("call me at 138.1234.5678 please", "call me at 138****5678 please"),
    # cards and accounts
    ("卡号6217000000016688", "卡号**** 6688"),
    ("卡号 6217 0000 0001 6688 挂失", "卡号 **** 6688 挂失"),
    ("卡号６２１７－００００－０００１－６６８８", "卡号**** 6688"),
    ("卡号6217\u200b0000\u200b0001\u200b6688", "卡号**** 6688"),
    ("卡号6217\u00a00000\u00a00001\u00a06688", "卡号**** 6688"),
    ("卡号6217，0000，0001，6688", "卡号**** 6688"),
    ("账号 6217_0000/0001.6688.123", "账号 **** 8123"),
    ("账号 1 2 3 4 5 6 7 8 9 0 1 2", "账号 **** 9012"),
    ("账号 622202100112345678901", "账号 **** 8901"),
    ("卡号 6 2 0 0 0 0 0 0 0 0 0 0 0 0 0.0.0.0", "卡号 **** 0000"),  # not an IP address
    # several items in one text
    ("13812345678，6217000000016688", "138****5678，**** 6688"),
    ("我叫张三，身份证110101199001010011，手机13812345678，卡6217000000016688",
     "我叫张三，身份证110***********0011，手机138****5678，卡**** 6688"),
    # e-mail and passports
    ("邮箱 Zhang.San@Example.com 谢谢", "邮箱 Z***@Example.com 谢谢"),
    ("邮箱13812345678@qq.com", "邮箱1***@qq.com"),
    ("邮箱ｚｈａｎｇｓａｎ＠ｑｑ．ｃｏｍ", "邮箱z***@qq.com"),
    ("护照E12345678和EA1234567", "护照E*****678和EA****567"),
    ("passport G 1234 5678", "passport G*****678"),
    # tokens
    ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDMDAxIn0.abcDEF123_-x end", "token [token] end"),
])
def test_mask_text(raw, masked):
    assert mask_text(raw) == masked


@pytest.mark.parametrize("text", [
    "转5000元到尾号6688",
    "尾号6688的卡挂失",
    "2026年12月3日 金额123456.78",
    "金额1,234,567.89元",
    "查询2026.01.01-2026.12.31的流水",
    "2026-12-03 13:45:00 起息",
    "2026/12/03",
    "20261203",
    "利率3.85%，期限36个月，1年，100000元",
    "客服电话95588，工作时间8:00-22:00",
    "请于2026-12-03 10:00到网点",
    "from 192.168.100.200:5005",
    "<MsgId>23637352235060880</MsgId>",
    "duplicate MsgId=23637352235060880",
    "工单TK20261202123456已创建",
    "message 3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "sender wechat:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "验证码 123456",
    "第1234567号",
    "Rasa 3.6.21, python 3.10",
    "intent scores [0.8123, 0.7712, 0.6534, 0.0012, 0.0009]",
    '{"timestamp": 1733130000.123456, "confidence": 0.98123}',
    "took 12.345 s",
    "1234.5元",
    "",
])
def test_ordinary_numbers_are_left_alone(text):
    assert mask_text(text) == text


def test_a_date_next_to_a_card_number_never_keeps_part_of_the_card():
    masked = mask_text("2026.12.03 6217000000016688")
    assert "6217" not in masked and masked.endswith("**** 6688")


def test_a_huge_run_of_numbers_is_hidden_whole_and_quickly():
    text = "1 2 3 4 5 6 7 8 9 0 " * 2000
    started = time.perf_counter()
    assert mask_text(text).strip() == "****"
    assert time.perf_counter() - started < 5


def test_mask_card_keeps_only_the_last_four():
    assert mask_card("6217-0000-0001-6688") == "**** 6688"


def test_normalize_maps_back_to_the_original():
    normal, origin = normalize("卡\u200b６２－1")
    assert normal == "卡62-1"
    assert origin == [0, 2, 3, 4, 5]


# --- property-based: formatted variants never leak ----------------------------------------------

SEPARATORS = [" ", "  ", "-", " - ", ".", "_", "/", "、", "，", "。", "－", "—", "\u00a0", "\u3000", "\u200b", ""]
FULL_WIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}
WORDS = ["我的", "号码是", "请帮我查一下", "谢谢", "卡号", "身份证", "手机", "my number is", "please check",
         "thanks", "邮箱", "护照", "hello", "，", "。", "：", " ", "\n"]


@st.composite
def formatted(draw, digits: str) -> str:
    """``digits`` written the way people write them: grouped, separated, full-width, spaced."""
    style = draw(st.sampled_from(["plain", "fours", "random", "single"]))
    if style == "plain":
        groups = [digits]
    elif style == "fours":
        groups = [digits[i:i + 4] for i in range(0, len(digits), 4)]
    elif style == "single":
        groups = list(digits)
    else:
        groups, rest = [], digits
        while rest:
            size = draw(st.integers(3, 6))
            groups.append(rest[:size])
            rest = rest[size:]
    sep = draw(st.sampled_from(SEPARATORS))
    text = sep.join(groups) if draw(st.booleans()) else "".join(
        g + (draw(st.sampled_from(SEPARATORS)) if k < len(groups) - 1 else "") for k, g in enumerate(groups))
    if draw(st.booleans()):
        text = "".join(FULL_WIDTH.get(c, c) for c in text)
    return text


@st.composite
def id_numbers(draw) -> tuple[str, str]:
    region = draw(st.sampled_from(["110101", "440106", "310115", "510104", "330102", "650102"]))
    born = draw(st.dates(dt.date(1930, 1, 1), dt.date(2015, 12, 31)))
    first17 = f"{region}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    check = id_check_digit(first17)
    if check == "X" and draw(st.booleans()):
        check = "x"
    written = draw(formatted(first17)) + check
    return first17 + check.upper(), written


@st.composite
def card_numbers(draw) -> tuple[str, str]:
    prefix = draw(st.sampled_from(["62", "4", "5", "35", "9"]))
    length = draw(st.integers(12, 21))
    digits = prefix + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=length - len(prefix),
                                            max_size=length - len(prefix))))
    return digits, draw(formatted(digits))


@st.composite
def mobiles(draw) -> tuple[str, str]:
    digits = "1" + draw(st.sampled_from("3456789")) + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=9, max_size=9)))
    style = draw(st.sampled_from(["plain", "344", "random"]))
    if style == "344":
        sep = draw(st.sampled_from(SEPARATORS))
        body = f"{digits[:3]}{sep}{digits[3:7]}{sep}{digits[7:]}"
    elif style == "random":
        body = draw(formatted(digits))
    else:
        body = digits
    prefix = draw(st.sampled_from(["", "+86 ", "+86", "0086 ", "86", "(+86)", "（+86）", "+86-", "0086-"]))
    if draw(st.booleans()):
        body = "".join(FULL_WIDTH.get(c, c) for c in body)
    return digits, prefix + body


@st.composite
def passports(draw) -> tuple[str, str]:
    kind = draw(st.sampled_from(["E", "G", "P", "EA", "EB", "SE"]))
    length = 7 if len(kind) == 2 else draw(st.integers(7, 8))
    digits = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=length, max_size=length)))
    return digits, kind + digits


@st.composite
def emails(draw) -> tuple[str, str]:
    local = draw(st.from_regex(r"[a-z][a-z0-9._]{1,15}[a-z0-9]", fullmatch=True))
    domain = draw(st.sampled_from(["qq.com", "163.com", "example.com.cn", "bank-mail.cn"]))
    at = draw(st.sampled_from(["@", "＠"]))
    return local, f"{local}{at}{domain}"


PII = st.one_of(id_numbers().map(lambda v: ("digits", *v)), card_numbers().map(lambda v: ("digits", *v)),
                mobiles().map(lambda v: ("digits", *v)), passports().map(lambda v: ("digits", *v)),
                emails().map(lambda v: ("email", *v)))


def digit_runs(text: str) -> list[str]:
    """Digit runs of the normalised text, separators between digits removed."""
    normal, _ = normalize(text)
    return [re.sub(r"[^0-9]", "", m) for m in re.findall(r"[0-9]+(?:[ \t\-._/,、。()+]{1,3}[0-9]+)*", normal)]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(PII, min_size=1, max_size=4), words=st.lists(st.sampled_from(WORDS), min_size=5, max_size=5))
def test_no_formatted_variant_leaks(items, words):
    # items are separated by at least one word that is not a separator, as in real sentences
    text = words[0] + "".join(f"{written}{words[k % 4 + 1]}话" for k, (_, _, written) in enumerate(items))
    masked = mask_text(text)
    runs = digit_runs(masked)
    normal_masked = normalize(masked)[0]
    for kind, secret, _ in items:
        if kind == "email":
            assert f"{secret}@" not in normal_masked, (text, masked)
            continue
        digits = re.sub(r"[^0-9]", "", secret)
        windows = {digits[k:k + 7] for k in range(len(digits) - 6)}
        assert not any(w in run for w in windows for run in runs), (text, masked)


@settings(max_examples=200, deadline=None)
@given(a=card_numbers(), b=mobiles(), sep=st.sampled_from(["，", "、", " ", "；", "和"]))
def test_items_separated_only_by_punctuation_do_not_leak(a, b, sep):
    masked = mask_text(f"{a[1]}{sep}{b[1]}")
    normal = re.sub(r"[^0-9*]", "", normalize(masked)[0])
    for digits in (a[0], b[0]):
        assert digits not in normal and digits[:-4] not in normal, masked
