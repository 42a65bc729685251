"""Rasa 3.6 re-validates its own JSON schema on every action-server reply; validate with one compiled validator.

`RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)`, which first
checks the (constant, large) events schema against the JSON-Schema meta-schema and builds a
new validator, then validates the reply. Profiled with py-spy under 20 concurrent REST users
(benchmarks/load.py), that meta-schema check was about 37 % of the Rasa server's CPU; checking
the reply itself is under 1 %. A form turn makes several action calls (validation, ask, submit),
so it paid this several times per message.

`install()` swaps in a method that validates against a validator built once per process.
Same schema, same errors (jsonschema's best match, with Rasa's hint appended), same result.
It is installed when the Rasa server imports our policy (bot/dialogue/policy.py).
"""
from __future__ import annotations

import functools
from typing import Any, Dict, Text

_MARK = "_validates_with_compiled_schema"


@functools.lru_cache(maxsize=1)
def _action_reply_validator() -> Any:
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)  # once, not per reply
    return cls(schema)


def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    from jsonschema import exceptions
    from rasa.shared.constants import DOCS_BASE_URL

    error = exceptions.best_match(_action_reply_validator().iter_errors(result))
    if error is not None:
        error.message += (". Failed to validate Action server response from API, make sure your response "
                          "from the Action endpoint is valid. For more information about the format visit "
                          f"{DOCS_BASE_URL}/custom-actions")
        raise error
    return True


def install() -> None:
    """Idempotent; a no-op if Rasa's RemoteAction no longer has the method (a newer Rasa)."""
    from rasa.core.actions.action import RemoteAction

    current = getattr(RemoteAction, "_validate_action_result", None)
    if current is None or getattr(current, _MARK, False):
        return
    setattr(_validate_action_result, _MARK, True)
    RemoteAction._validate_action_result = _validate_action_result
