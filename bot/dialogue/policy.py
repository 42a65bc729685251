"""The Rasa policy that reads each turn in context and carries out the resulting command.

At the first prediction after a customer message it builds the dialogue state from the
tracker, asks ``commands.interpret`` what the turn means, and stores the command with its
action plan in the ``dialogue_turn`` slot (with any slot values the turn gave). Later
predictions of the same turn walk that plan, then resume the active form (which asks its
question again) or listen. When the command is ``abstain`` Rasa's rules decide as before.
Design and precedence: docs/dialogue.md.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, Event, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot import (action_outage, action_payload, graph_thread, heap_freeze, idempotent_turns, rasa_speedups, session_rollover,
                 store_outage, tracker_states)
from bot.dialogue import cues
from bot.dialogue.commands import Command, Turn, interpret
from bot.dialogue.plans import TURN_SLOT, plan_for
from bot.dialogue.state import dialogue_state
from bot.flows import FORM_SUBMIT
from bot.settings import load_settings

log = logging.getLogger(__name__)
PRIORITY = 6  # above RulePolicy (4) and MemoizationPolicy (3)


def turn_of(tracker: DialogueStateTracker) -> Turn:
    parse = tracker.latest_message.parse_data if tracker.latest_message else {}
    metadata = tracker.latest_message.metadata if tracker.latest_message else {}
    return turn_from_parse(parse, metadata)


def turn_from_parse(parse: Dict[Text, Any], metadata: Optional[Dict[Text, Any]] = None) -> Turn:
    """The Turn of one NLU parse result (also used by the bot-level evaluation)."""
    intent = parse.get("intent") or {}
    entities: dict[str, Any] = {}
    entity_texts: dict[str, str] = {}
    mentions: list[tuple[str, Any, int]] = []
    for entity in parse.get("entities") or []:
        entities.setdefault(entity.get("entity"), entity.get("value"))
        entity_texts.setdefault(entity.get("entity"), str(entity.get("text") or ""))
        mentions.append((entity.get("entity"), entity.get("value"), int(entity.get("start") or 0)))
    return Turn(text=parse.get("text") or "", intent=intent.get("name") or "",
                confidence=float(intent.get("confidence") or 0.0),
                ranking=[(r.get("name"), float(r.get("confidence") or 0)) for r in parse.get("intent_ranking") or []],
                entities=entities, kb_decision=knowledge_decision(parse.get("kb") or {}),
                redacted=tuple((metadata or {}).get("redacted") or ()), entity_texts=entity_texts,
                mentions=mentions, question=(parse.get("question") or {}).get("probability"),
                parts=[_part_turn(part) for part in parse.get("parts") or []])


def knowledge_decision(kb: Dict[Text, Any]) -> Optional[str]:
    """The knowledge base's decision on a message: the FAQ's, or "answer" when only a cited passage of
    the bank's documents answers it (bot/actions/faq.py answers from either)."""
    decision = kb.get("decision")
    if decision != "answer" and (kb.get("document") or {}).get("decision") == "answer":
        return "answer"
    return decision


def _part_turn(part: Dict[Text, Any]) -> Turn:
    """One ask of a several-asks message, as bot/nlu/linear_intents.py and the components after it read it."""
    return Turn(text=part.get("text") or "", intent=part.get("intent") or "",
                confidence=float(part.get("confidence") or 0.0), question=part.get("question"),
                kb_decision=(part.get("kb") or {}).get("decision"))


def _turn_id(tracker: DialogueStateTracker) -> str:
    message = tracker.latest_message  # every UserMessage carries an id (channels set it, Rasa makes one)
    return str(message.message_id or "") if message else ""


def _since_user(tracker: DialogueStateTracker) -> list[Event]:
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            return events[index + 1:]
    return events


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class TurnInterpretationPolicy(Policy):
    """Context-aware reading of customer turns (docs/dialogue.md)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": PRIORITY}

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "TurnInterpretationPolicy":
        rasa_speedups.install()  # the server that loads this policy validates action replies cheaply
        tracker_states.install()  # and computes each dialogue state once per event
        graph_thread.install()  # and runs the model graph off its event loop
        action_outage.install()  # and answers the customer when the action server is down
        action_payload.install()  # and sends it past messages without their knowledge-base assessment
        idempotent_turns.install()  # and a message sent again with the same client id is one turn
        store_outage.install()  # and refuses a turn when the conversation store is down (no silent fallback)
        session_rollover.install(load_settings().session_rollover_turns)  # and a long conversation stays fast
        heap_freeze.install()  # and the loaded model is kept out of the garbage collector's full passes
        return cls(config, model_storage, resource, execution_context)

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        return self._resource  # nothing to learn: the reading is rules over state and NLU output

    def predict_action_probabilities(self, tracker: DialogueStateTracker, domain: Domain,
                                     rule_only_data: Optional[Dict[Text, Any]] = None,
                                     **kwargs: Any) -> PolicyPrediction:
        if not tracker.latest_message or tracker.is_paused():
            return self._abstain(domain)
        since = _since_user(tracker)
        executed = [e.action_name for e in since if isinstance(e, ActionExecuted)
                    and e.action_name not in (ACTION_LISTEN_NAME, "action_extract_slots")]
        if not executed and not any(isinstance(e, ActionExecutionRejected) for e in since):
            return self._first_step(tracker, domain)
        record = tracker.get_slot(TURN_SLOT)
        if not isinstance(record, dict) or record.get("turn_id") != _turn_id(tracker):
            return self._abstain(domain)
        return self._predict(domain, self._next_step(tracker, record.get("plan") or [], executed, since))

    def _first_step(self, tracker: DialogueStateTracker, domain: Domain) -> PolicyPrediction:
        turn = turn_of(tracker)
        language = cues.language_of(turn.text) if not turn.is_payload else None
        always: list[Event] = [SlotSet("language", language)] if language and language != tracker.get_slot(
            "language") else []
        state = dialogue_state([e.as_dict() for e in list(tracker.events)[-400:]], tracker.current_slot_values(),
                               tracker.active_loop_name)
        try:
            command = interpret(state, turn)
        except Exception:  # a reading error must never cost the customer an answer
            log.exception("turn interpretation failed; leaving the turn to the rules")
            command = Command("abstain", reason="interpretation error")
        log.debug("turn command %s", command.as_dict())
        if command.act == "abstain":
            return self._abstain(domain, always + [SlotSet(TURN_SLOT, None)])
        plan, slot_events = plan_for(command, state)
        record = {"turn_id": _turn_id(tracker), "command": command.as_dict(), "plan": plan}
        return self._predict(domain, plan[0], always + [SlotSet(TURN_SLOT, record)] + slot_events)

    @staticmethod
    def _next_step(tracker: DialogueStateTracker, plan: list[str], executed: list[str], since: list[Event]) -> str:
        if since and isinstance(since[-1], ActionExecutionRejected):
            # the form could not use the turn: ask what to change, or answer it, then ask again
            act = ((tracker.get_slot(TURN_SLOT) or {}).get("command") or {}).get("act")
            return "utter_ask_correction" if act == "correct_slots" else "action_answer_aside"
        last = executed[-1] if executed else None
        if last == "action_start_task" and tracker.get_slot("task_ready") is False:
            return ACTION_LISTEN_NAME
        if len(executed) < len(plan):
            return plan[len(executed)]
        form = tracker.active_loop_name
        if last in FORM_SUBMIT and not form:
            return FORM_SUBMIT[last]
        if form and last != form and last not in ("utter_ask_correction",):
            return form
        return ACTION_LISTEN_NAME

    def _predict(self, domain: Domain, action: str, events: Optional[list[Event]] = None) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities, optional_events=events or [], is_no_user_prediction=True)

    def _abstain(self, domain: Domain, events: Optional[list[Event]] = None) -> PolicyPrediction:
        return self._prediction(self._default_predictions(domain), events=events or [])

