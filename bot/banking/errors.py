"""Refusals from the bank, each with the sentence the customer sees (zh-CN)."""
from __future__ import annotations


class BankingError(Exception):
    message_zh = "抱歉，这笔业务暂时无法办理。"

    def __init__(self, detail: str = "", message_zh: str | None = None) -> None:
        super().__init__(detail or type(self).__name__)
        if message_zh:
            self.message_zh = message_zh


class UnknownCustomer(BankingError):
    message_zh = "没有查到您的客户信息，请重新登录后再试。"


class CardNotFound(BankingError):
    message_zh = "没有找到您名下的这张卡，请核对卡号后四位。"


class CardNotActive(BankingError):
    message_zh = "这张卡目前已挂失或冻结，不能办理这项业务。"


class InvalidAmount(BankingError):
    message_zh = "金额不正确，请输入大于 0、最多两位小数的金额。"


class LimitExceeded(BankingError):
    message_zh = "超过了转账限额，请调整金额，或在示例银行App中调整限额。"


class InsufficientFunds(BankingError):
    message_zh = "账户可用余额不足，请调整金额。"


class UnknownBranch(BankingError):
    message_zh = "没有找到这个网点，请重新选择。"


class BranchClosed(BankingError):
    message_zh = "该网点当天不营业，请换一天或换一个网点。"


class DateInPast(BankingError):
    message_zh = "预约日期不能早于今天，请重新选择日期。"


class BookingTooLate(BankingError):
    message_zh = "5 万元（含）以上的大额取现需要至少提前一天预约，请改约明天或以后的日期。"


class UnknownCurrency(BankingError):
    message_zh = "暂不支持这个币种，示例银行提供美元、欧元、日元、港币、英镑、澳元、加元、新加坡元的牌价。"


class TicketNotFound(BankingError):
    message_zh = "没有找到这张工单。"
