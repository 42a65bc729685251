"""What customers say: the step types, one Script per conversation, and the catalogue of scripts
with how often each kind comes up. Pure data, written for this demo."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple, Union

CUSTOMERS = ("C001", "C002", "C003")  # the sandbox bank's demo customers (bot/banking/seed.py)


@dataclass(frozen=True)
class Say:
    """The customer types `text`."""

    text: str


@dataclass(frozen=True)
class Pick:
    """The customer picks one of the options the last reply offered: the first whose title contains
    `prefer`, or any option that neither confirms an operation nor calls a person. Skipped (and
    noted) when the reply offered none, because menus depend on the model's confidence."""

    prefer: str = ""


@dataclass(frozen=True)
class AskHuman:
    """The customer asks for a person; the demo supervisor accepts, greets, hears `detail`,
    answers and closes with `disposition`; a customer the desk can reach then rates with `score`."""

    text: str
    greeting: str
    detail: str
    answer: str
    disposition: str
    score: int


@dataclass(frozen=True)
class Rate:
    """The customer answers the bot's satisfaction question with `score` (1–5) by its option; skipped
    (and noted) when the last reply did not ask it."""

    score: int


Step = Union[Say, Pick, AskHuman, Rate]


@dataclass(frozen=True)
class Script:
    """One conversation's worth of customer behaviour; `customer` logs in first (None: anonymous)."""

    kind: str
    steps: Tuple[Step, ...]
    customer: Optional[str] = None

    @property
    def texts(self) -> List[str]:
        """Every sentence the customer may type (for the checks against the held-out dev sets)."""
        out: List[str] = []
        for step in self.steps:
            if isinstance(step, Say):
                out.append(step.text)
            elif isinstance(step, AskHuman):
                out += [step.text, step.detail]
        return out


def _script(kind: str, *steps: Union[str, Step], customer: Optional[str] = None) -> Script:
    """A plain string is a Say: keeps the catalogue below readable."""
    return Script(kind, tuple(Say(s) if isinstance(s, str) else s for s in steps), customer)


# Written for this demo (never taken from ../shared/eval, which measures generalisation).
SCRIPTS: Dict[str, Tuple[Script, ...]] = {
    # knowledge questions the knowledge base answers, then a closing
    "faq": (
        _script("faq", "开通手机银行一定要去网点吗", "换了新手机以后手机银行怎么登录", "好的，明白了，谢谢"),
        _script("faq", "定期还没到期急用钱能取出来吗，利息怎么算", "大额存单最少存多少", "谢谢，再见", Rate(5)),
        _script("faq", "出境的时候身上最多能带多少美元", "知道了，谢谢"),
        _script("faq", "ATM把我的卡吞进去了", "好的，谢谢你"),
        _script("faq", "房贷想提前还一部分要付违约金吗", "存款利息要交税吗", "行，没别的了，拜拜", Rate(4)),
        _script("faq", "周末网点开门吗", "征信报告在哪查，要钱吗", "谢了"),
        _script("faq", "手机银行一直收不到验证码", "好的，谢谢"),
        _script("faq", "跨行转钱收不收费", "好嘞，谢谢"),
        _script("faq", "How long does a transfer to another bank take?", "Thanks, that's all."),
        _script("faq", "Can a foreigner open an account at your bank?", "Great, thank you. Bye!", Rate(5)),
        _script("faq", "信用卡账单分期的手续费是怎么收的", "说了半天还是没看懂，算了，再见吧", Rate(2)),
    ),
    # a vague question: the bot offers a menu of entries and the customer picks one
    "clarify": (
        _script("clarify", "手续费", Pick(), "好的，谢谢"),
        _script("clarify", "收费的问题", Pick(), "明白了"),
        _script("clarify", "年费", Pick(), "谢谢啦"),
    ),
    # questions the knowledge base has no answer for (the dashboard's top_unanswered)
    "unanswered": (
        _script("unanswered", "网点能不能帮忙复印身份证", "那算了，谢谢"),
        _script("unanswered", "外币支票能托收吗", "好吧"),
        _script("unanswered", "有没有给退伍军人的专属优惠", "行，谢谢"),
        _script("unanswered", "信用卡的金属卡怎么申请", "那好吧，拜拜"),
        _script("unanswered", "你们行的保险箱一年租金多少", "好的"),
    ),
    "smalltalk": (
        _script("smalltalk", "你好呀", "你是不是机器人啊", "今天好冷啊", "哈哈，谢谢，拜拜"),
        _script("smalltalk", "在吗", "讲个笑话吧", "好吧，再见"),
        _script("smalltalk", "Hi there", "Are you a real person?", "OK, thanks. Bye"),
    ),
    "balance": (
        _script("balance", "帮我看看卡里还有多少钱", "最近的交易明细给我看看", "好的，谢谢", customer="C001"),
        _script("balance", "查一下余额", "多谢", customer="C002"),
        _script("balance", "What's my balance?", "Thanks, bye", Rate(4), customer="C003"),
        _script("balance", "我上个月花了多少钱", "余额还剩多少", "知道了，谢谢", customer="C003"),
    ),
    # a transfer started, then called off before the confirmation
    "transfer_cancelled": (
        _script("transfer_cancelled", "我要给李四转一千块", "算了，今天先不转了", customer="C002"),
        _script("transfer_cancelled", "我想转账", Pick(), "五百", Pick(), "哦我想起来已经转过了，不用了", "谢谢啦",
                customer="C001"),
        _script("transfer_cancelled", "用6688那张卡给王小明转两千", "等一下，我先跟他确认下账号，先不转了",
                customer="C001"),
    ),
    # a task left midway: the customer simply stops answering
    "abandoned": (
        _script("abandoned", "我想预约去网点取五万块现金", Pick(), customer="C002"),
        _script("abandoned", "帮我挂失一张卡", Pick(), customer="C003"),
        _script("abandoned", "我想给张三转账", customer="C001"),
        _script("abandoned", "我想申请一张信用卡", customer="C002"),
    ),
    "exchange_rate": (
        _script("exchange_rate", "美元现在什么价", "那欧元呢", "好的谢谢"),
        _script("exchange_rate", "日元牌价查一下", "港币呢", "好嘞，谢谢"),
        _script("exchange_rate", "换一千欧元大概要多少人民币", "多谢"),
        _script("exchange_rate", "What is the exchange rate for US dollars today?", "Thanks"),
    ),
    # a card-loss report, called off at the confirmation (the sandbox keeps every card active)
    "card_loss": (
        _script("card_loss", "我的信用卡好像丢了，帮我挂失", Pick(), Pick(prefer="取消"), "好，谢谢你",
                customer="C003"),
        _script("card_loss", "帮我挂失尾号4872的卡", "我再找找，先不挂了", customer="C001"),
        _script("card_loss", "卡被偷了，赶紧冻结", Pick(), "等等，卡在我包里找到了，不用了", customer="C002"),
    ),
    "branch": (
        _script("branch", "离我最近的网点在哪", Pick(), "谢谢啦"),
        _script("branch", "你们在深圳有网点吗", "周末营业吗", "好的"),
        _script("branch", "Where is your nearest branch?", Pick(), "Thank you"),
    ),
    # the customer wants a person: a handoff the demo supervisor takes
    "handoff": (
        _script("handoff", AskHuman(
            "帮我接个真人客服", greeting="您好，我是示例银行客服，很高兴为您服务。",
            detail="我想改一下银行卡预留的手机号",
            answer="请您本人携带身份证和银行卡到任一网点柜台办理，也可以在App“我的-安全中心”中修改。",
            disposition="resolved", score=5)),
        _script("handoff", "你们网点排队太久了，我要投诉", "上周六在浦东支行等了两个小时", AskHuman(
            "那给我转人工吧", greeting="您好，非常抱歉让您久等了，我来跟进您的投诉。",
            detail="希望以后周末能多开几个窗口",
            answer="已为您记录并反馈给网点负责人，我们会在1个工作日内联系您。",
            disposition="follow_up", score=3)),
        _script("handoff", AskHuman(
            "能不能让人工客服跟我说", greeting="您好，请问有什么可以帮您？",
            detail="我的工资这个月还没到账，想查一下原因",
            answer="工资由单位代发，建议先向单位确认代发日期；如已代发仍未到账，请带身份证到网点查询。",
            disposition="resolved", score=4)),
        _script("handoff", AskHuman(
            "I'd like to talk to a human agent, please", greeting="Hello, this is 示例银行. How can I help you?",
            detail="I need to update my passport number on my account",
            answer="Please bring your new passport to any branch counter; it takes about ten minutes.",
            disposition="resolved", score=5)),
    ),
}
KINDS = tuple(SCRIPTS)
# How often each kind comes up once every (kind, channel) pair has had its turn: knowledge questions
# dominate a bank's chat traffic, handoffs and abandoned tasks are the minority.
WEIGHTS = {"faq": 24, "clarify": 6, "unanswered": 8, "smalltalk": 8, "balance": 10, "transfer_cancelled": 7,
           "abandoned": 6, "exchange_rate": 9, "card_loss": 5, "branch": 8, "handoff": 9}
