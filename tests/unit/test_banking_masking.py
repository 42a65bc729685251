"""Personal data is masked in free text; amounts and a card's last four are left alone."""
import pytest

from bot.banking.masking import mask_card, mask_text


@pytest.mark.parametrize("raw, masked", [
    ("身份证110101199001010011", "身份证110***********0011"),
    ("证件号 44010119951212003X 请核对", "证件号 440***********003X 请核对"),
    ("手机13800000001", "手机138****0001"),
    ("卡号6217000000016688", "卡号**** 6688"),
    ("卡号 6217 0000 0001 6688 挂失", "卡号 **** 6688 挂失"),
    ("转5000元到尾号6688", "转5000元到尾号6688"),
    ("2026年12月3日 金额123456.78", "2026年12月3日 金额123456.78"),
])
def test_mask_text(raw, masked):
    assert mask_text(raw) == masked


def test_mask_card_keeps_only_the_last_four():
    assert mask_card("6217-0000-0001-6688") == "**** 6688"
