"""report_card_loss: choose the card, confirm, freeze it at once, remind the written report."""
from __future__ import annotations

from typing import Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import backend
from bot.actions.forms import ActionAskCard, ActionAskConfirm, TaskFormValidation, TaskSubmit


class ValidateCardLossForm(TaskFormValidation):
    def name(self) -> Text:
        return "validate_card_loss_form"


class ActionAskCardLossCard(ActionAskCard):
    prompt = "请问要挂失哪张卡？请选择，或告诉我卡号后四位。"

    def name(self) -> Text:
        return "action_ask_card_loss_form_card_last4"


class ActionAskCardLossConfirm(ActionAskConfirm):
    confirm_title = "确认挂失"

    def name(self) -> Text:
        return "action_ask_card_loss_form_confirmed"

    def summary(self, tracker: Tracker) -> Text:
        return (f"即将为您挂失尾号 {tracker.get_slot('card_last4')} 的卡片，挂失后该卡立即冻结、无法交易。"
                "确认挂失吗？")


class ActionSubmitCardLoss(TaskSubmit):
    def name(self) -> Text:
        return "action_submit_card_loss"

    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Optional[Text]) -> None:
        receipt = backend().report_card_loss(cid, tracker.get_slot("card_last4"))
        dispatcher.utter_message(
            text=(f"已为您挂失尾号 {receipt.card_last4} 的卡片，卡片已冻结（挂失编号 {receipt.reference}）。"
                  "这是临时挂失，请在 5 日内携带本人有效身份证件到示例银行任一网点办理正式（书面）挂失和补卡，"
                  "具体时限以示例银行公告为准。如发现被盗刷，请立即拨打 110 报警。"),
            operation_reference=receipt.reference)
