import copy
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker

from bot import tracker_states

DOMAIN_DIR = Path(__file__).resolve().parents[2] / "bot" / "domain"
ARGUMENTS = [{}, {"ignore_rule_only_turns": True}, {"omit_unset_slots": True},
             {"ignore_rule_only_turns": True, "rule_only_data": {"slots": ["x"], "active_loops": []}}]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(DOMAIN_DIR))


@pytest.fixture(scope="module", autouse=True)
def installed():
    tracker_states.install()
    tracker_states.install()  # idempotent: not wrapped twice
    assert not getattr(DialogueStateTracker.past_states.rasas, tracker_states._MARK, False)


def _conversation(domain: Domain) -> DialogueStateTracker:
    slot = next(s for s in domain.slots if s.type_name == "text")
    form = next(iter(domain.form_names))
    intents = domain.intents
    events = [ActionExecuted("action_listen"),
              UserUttered("我要转账", {"name": intents[0], "confidence": 0.9}),
              ActionExecuted(form), ActiveLoop(form), SlotSet(slot.name, "张三"),
              ActionExecuted("action_listen"),
              UserUttered("五百块", {"name": intents[1], "confidence": 0.8}, [{"entity": "amount", "value": "500"}])]
    return DialogueStateTracker.from_events("someone", events, domain.slots)


def test_slot_copies_are_what_copy_copy_made(domain):
    for slot in domain.slots:
        slot.value = slot.initial_value
        twin = copy.copy(slot)
        assert type(twin) is type(slot) and twin is not slot
        assert vars(twin) == vars(slot)
        twin.value = "changed"
        assert slot.value == slot.initial_value
    assert Slot.__copy__ is tracker_states.copy_slot


def test_remembered_states_equal_rasas_for_every_argument_set(domain):
    tracker = _conversation(domain)
    rasas = DialogueStateTracker.past_states.rasas
    for arguments in ARGUMENTS * 2:  # the second pass answers from the memo
        assert tracker.past_states(domain, **arguments) == rasas(tracker, domain, **arguments)
    assert len(tracker.__dict__[tracker_states._MEMO][1]) == len(ARGUMENTS)


def test_callers_editing_the_states_do_not_change_the_next_answer(domain):
    tracker = _conversation(domain)
    first = tracker.past_states(domain)
    first[-1].pop("user")  # as Rasa's featurizer does with the latest state
    first[-1]["prev_action"]["action_name"] = "edited"
    second = tracker.past_states(domain)
    assert "user" in second[-1] and second[-1]["prev_action"]["action_name"] != "edited"
    assert second == DialogueStateTracker.past_states.rasas(tracker, domain)


def test_a_new_event_makes_new_states(domain):
    tracker = _conversation(domain)
    before = tracker.past_states(domain)
    tracker.update(ActionExecuted("utter_greet"))
    after = tracker.past_states(domain)
    assert len(after) == len(before) + 1
    assert after == DialogueStateTracker.past_states.rasas(tracker, domain)


def test_a_capped_history_still_sees_each_new_event(domain):
    tracker = DialogueStateTracker.from_events("capped", _conversation(domain).events, domain.slots,
                                               max_event_history=4)
    before = tracker.past_states(domain)
    tracker.update(ActionExecuted("utter_greet"))
    assert len(tracker.events) == 4
    after = tracker.past_states(domain)
    assert after != before
    assert after == DialogueStateTracker.past_states.rasas(tracker, domain)
