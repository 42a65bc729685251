"""The compiled action-reply validator accepts and rejects exactly what Rasa's own validation does."""
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
