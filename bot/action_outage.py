"""When the action server cannot be reached, the customer is told so instead of getting silence.

Rasa's `RemoteAction.run` raises when the action server refuses the connection, times out or
answers with a server error. The processor logs that and carries on: the turn ends with no reply,
or (what we saw) with the core fallback "抱歉，我没有理解您的意思", which blames the customer for
an outage of ours.

`install()` wraps `RemoteAction.run`. When the server is unreachable, the action instead
returns:
* the domain's `utter_backend_unavailable` ("系统暂时繁忙，这次没有办理成功，也没有产生任何变动…",
  in the customer's language);
* the end of any running form (`ActiveLoop(None)`, no requested slot). This is safe because a
  form whose validation could not run must not go on with unvalidated values;
* `FollowupAction(action_listen)`, so no other policy runs a submit or another remote action
  in the same turn.

Rejections (`ActionExecutionRejection`, a validation saying "not this action") and invalid
replies still raise as before. The next turn calls the action server again, so the conversation
works as soon as the server is back. Installed when the Rasa server loads our policy
(bot/dialogue/policy.py).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, List

log = logging.getLogger(__name__)
UNAVAILABLE_RESPONSE = "utter_backend_unavailable"
_MARK = "_installed_by_action_outage"


def _unreachable(error: BaseException) -> bool:
    from rasa.core.actions.action import ActionExecutionRejection
    from rasa.shared.exceptions import RasaException

    if isinstance(error, ActionExecutionRejection):
        return False
    return isinstance(error, (RasaException, asyncio.TimeoutError))


def _answer_when_unreachable(run: Callable[..., Any]) -> Callable[..., Any]:
    async def guarded_run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Any]:
        try:
            return await run(self, output_channel, nlg, tracker, domain)
        except Exception as error:
            if not _unreachable(error):
                raise
            from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
            from rasa.shared.core.events import ActiveLoop, FollowupAction, SlotSet

            log.error("action server unreachable while running %s (%s): told the customer, form ended",
                      self.name(), type(error).__name__)
            said = await self._utter_responses([{"response": UNAVAILABLE_RESPONSE}], output_channel, nlg, tracker)
            return [*said, ActiveLoop(None), SlotSet(REQUESTED_SLOT, None), FollowupAction(ACTION_LISTEN_NAME)]

    setattr(guarded_run, _MARK, True)
    return guarded_run


def install() -> None:
    """Idempotent."""
    from rasa.core.actions.action import RemoteAction

    if not getattr(RemoteAction.run, _MARK, False):
        RemoteAction.run = _answer_when_unreachable(RemoteAction.run)
