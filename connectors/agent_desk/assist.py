"""Agent assist: what the customer wants, the best knowledge-base answers, and the next step."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from bot.banking.masking import mask_text

MAX_CHARS = 500
TOP_K = 3
# What an agent should do next for each task intent (the same steps the bot's flows follow).
NEXT_STEPS = {
    "report_card_loss": "挂失：核实身份 → 确认卡号后四位 → 立即冻结（临时挂失）→ 提醒5日内到网点办理书面挂失/补卡",
    "transfer_money": "转账：核实身份 → 确认收款人、金额和转出卡 → 检查单笔/日限额 → 引导客户在App安全页面确认，不在对话中索要验证码",
    "check_balance": "查余额：确认客户已登录/已绑定 → 确认要查询的卡 → 告知可用余额",
    "query_transactions": "查明细：确认卡和时间范围（默认近30天）→ 列出交易；发现可疑交易转欺诈流程",
    "credit_card_bill": "信用卡账单：确认卡片 → 告知本期应还、最低还款额和到期还款日",
    "credit_card_repay": "信用卡还款：确认还款卡和金额（全额/最低/自定义）→ 确认扣款卡余额 → 客户确认后提交",
    "apply_credit_card": "办信用卡：了解用途推荐卡种 → 核对申请条件（年满18岁、收入证明）→ 引导App线上申请",
    "loan_inquiry": "贷款咨询：确认贷款类型（房贷/消费贷/经营贷）→ 说明利率区间、额度和材料 → 可预约客户经理",
    "find_branch": "找网点：确认城市/区域 → 提供营业时间和地址；大额取现需提前一天预约",
    "book_appointment": "预约：确认网点、业务、日期和时段 → 检查网点当天营业 → 客户确认后提交并告知预约号",
    "exchange_rate": "汇率：确认币种和买入/卖出方向 → 告知实时牌价，提示以成交时为准",
    "wealth_products": "理财：确认风险测评等级 → 只推荐匹配等级的产品 → 提示理财非存款、有风险",
    "reset_password": "重置密码：引导客户在App或网点自助重置，绝不在对话中询问密码或验证码",
    "complaint": "投诉：致歉并记录事实（时间、网点/渠道、诉求）→ 登记投诉工单并告知编号和处理时限",
    "fraud_report": "疑似诈骗：提醒立即停止转账 → 拨打110/96110 → 协助冻结账户/卡 → 登记紧急工单",
    "request_human": "客户要求人工：问候并确认诉求",
}


def _window(text: str) -> str:
    """The most recent part of a (possibly long, speech-recognised) transcript."""
    return text.strip()[-MAX_CHARS:]


async def suggest(rasa_agent: Any, text: str) -> Dict[str, Any]:
    parsed = await rasa_agent.parse_message(_window(text))
    intent = parsed.get("intent") or {}
    name = intent.get("name")
    kb = parsed.get("kb") or {}
    hits: List[Dict[str, Any]] = (kb.get("hits") or [])[:TOP_K]
    return {
        "intent": {"name": name, "confidence": round(float(intent.get("confidence") or 0.0), 4)},
        "suggestions": [{"faq_id": h["faq_id"], "score": round(float(h["score"]), 4), "question": h.get("question"),
                         "answer": h["answer"]} for h in hits],
        "passage": cited_passage(kb.get("document") or {}),
        "next_step": next_step(name),
    }


def cited_passage(document: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The documents' answer (a confident or a possible passage): the sentences and where they stand, so
    the agent can quote the bank's own text ("根据《…》…：…") and check the page."""
    if document.get("decision") not in ("answer", "clarify") or not document.get("units"):
        return None
    return {"citation": document["citation"], "doc": document["doc"], "title": document["title"], "section": document["section"],
            "page": document.get("page"), "confident": document["decision"] == "answer",
            "confidence": document.get("confidence")}


def next_step(intent: Optional[str]) -> Optional[str]:
    return NEXT_STEPS.get(intent or "")


def masked_transcript(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Customer, bot and agent messages with ID, phone and card numbers masked."""
    turns = []
    for event in events:
        kind = event.get("event")
        if kind == "user" and event.get("text"):
            turns.append({"sender": "customer", "text": mask_text(event["text"]), "at": event.get("timestamp")})
        elif kind == "bot" and event.get("text"):
            metadata = event.get("metadata") or {}
            sender = "agent" if metadata.get("agent") else "bot"
            # agents see the login (agent_id); the display name is what the customer saw
            turns.append({"sender": sender, "agent": metadata.get("agent_id") or metadata.get("agent"),
                          "display_name": metadata.get("agent"), "text": mask_text(event["text"]),
                          "at": event.get("timestamp")})
        elif kind in {"pause", "resume"}:
            turns.append({"sender": "system", "text": "转人工" if kind == "pause" else "交还机器人",
                          "at": event.get("timestamp")})
    return turns


def customer_context(events: List[Dict[str, Any]], slots: Dict[str, Any],
                     customer_id: Optional[str]) -> Dict[str, Any]:
    active_flow = None
    for event in events:
        if event.get("event") == "active_loop" and event.get("name"):
            active_flow = event["name"]
    shown = {k: mask_text(str(v)) for k, v in slots.items()
             if v not in (None, [], "", False) and k not in {"task_ready", "requested_slot"}}
    return {"authenticated": bool(customer_id), "customer_id": customer_id, "last_flow": active_flow,
            "slots": shown}
