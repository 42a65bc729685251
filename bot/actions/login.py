"""The gate in front of every flow that touches a customer's own accounts.

When the customer is not logged in the bot explains, per flow, how to proceed
without revealing any account data, and never asks for a password or SMS code.
"""
from __future__ import annotations

from typing import Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import customer_id

# Flows that may not wait for a login get their own way out.
LOGIN_HELP = {"report_card_loss": "utter_login_required_card_loss"}


def require_login(dispatcher: CollectingDispatcher, tracker: Tracker) -> Text | None:
    """The customer id, or None after telling the customer to log in first."""
    found = customer_id(tracker)
    if not found:
        dispatcher.utter_message(response="utter_login_required")
    return found
