"""Our fixes to Rasa internals: compiled reply validation, event classes, and the action-server outage reply."""
import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot import rasa_speedups

VALID = {"events": [{"event": "slot", "name": "amount", "value": 300},
                    {"event": "action", "name": "action_listen"}],
         "responses": [{"response": "utter_ask_amount"}]}
INVALID = [{"events": [{"event": "slot"}]},           # a slot event without its name
           {"events": [{"event": "no_such_event"}]},
           {"events": "not a list"},
           {"responses": ["not an object"]}]


def _rasa_verdict(result):
    try:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
        return None
    except jsonschema.ValidationError as error:
        return error.message


def test_installed_validation_matches_rasas_on_valid_and_invalid_replies():
    rasa_speedups.install()
    rasa_speedups.install()  # idempotent
    action = RemoteAction("action_x", None)
    assert _rasa_verdict(VALID) is None and action._validate_action_result(VALID) is True
    for reply in INVALID:
        expected = _rasa_verdict(reply)
        assert expected is not None, reply
        with pytest.raises(jsonschema.ValidationError) as caught:
            action._validate_action_result(reply)
        assert caught.value.message.startswith(expected)
        assert "Failed to validate Action server response" in caught.value.message


def test_event_classes_resolve_as_rasas_own_walk_does():
    from rasa.shared.core.events import Event, SlotSet, UserUttered
    from rasa.shared.utils.common import all_subclasses

    names = {cls.type_name for cls in all_subclasses(Event)}
    expected = {name: Event.resolve_by_type(name) for name in names}
    rasa_speedups.install()
    assert {name: Event.resolve_by_type(name) for name in names} == expected
    assert Event.resolve_by_type("slot") is SlotSet and Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")


def test_only_an_unreachable_action_server_is_answered_for_rejections_and_bugs_still_raise():
    import asyncio

    from rasa.core.actions.action import ActionExecutionRejection
    from rasa.shared.exceptions import RasaException

    from bot.action_outage import _unreachable

    assert _unreachable(RasaException("Failed to execute custom action 'action_x'. Couldn't connect"))
    assert _unreachable(asyncio.TimeoutError())
    assert not _unreachable(ActionExecutionRejection("validate_transfer_form"))
    assert not _unreachable(jsonschema.ValidationError("bad reply"))
    assert not _unreachable(KeyError("bug"))
