"""Two per-turn costs of Rasa 3.6 that grow with traffic or with the conversation, removed.

1. Rasa re-validates its own JSON schema on every action-server reply; we validate with one
   compiled validator.
2. Rasa finds an event's class by walking every subclass of `Event` for every stored event it reads.
   A tracker of a 500-turn conversation holds thousands of events, and py-spy showed a quarter
   of such a turn in that walk. We keep what each walk found.

Details of 1:

`RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)`, which first
checks the (constant, large) events schema against the JSON-Schema meta-schema and builds a
new validator, then validates the reply. Profiled with py-spy under 20 concurrent REST users
(benchmarks/load.py), that meta-schema check was about 37 % of the Rasa server's CPU; checking
the reply itself is under 1 %. A form turn makes several action calls (validation, ask, submit),
so it paid this several times per message.

`install()` swaps in a method that validates against a validator built once per process.
Same schema, same errors (jsonschema's best match, with Rasa's hint appended), same result.
For 2 it wraps `Event.resolve_by_type` with a map from type name to the class Rasa's walk found
(unknown names still go through the walk and its error). Both are installed when the Rasa server
loads our policy (bot/dialogue/policy.py).
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Dict, Optional, Text

_MARK = "_installed_by_rasa_speedups"


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


def _remembering_event_classes(walk: Callable[..., Any]) -> Callable[..., Any]:
    found: Dict[Text, Any] = {}  # type name -> Event subclass: fixed once the classes are imported

    def resolve_by_type(type_name: Text, default: Optional[Any] = None) -> Optional[Any]:
        cls = found.get(type_name)
        if cls is None:
            cls = walk(type_name, default)
            if cls is not None and getattr(cls, "type_name", None) == type_name:
                found[type_name] = cls
        return cls

    setattr(resolve_by_type, _MARK, True)
    return resolve_by_type


def install() -> None:
    """Idempotent; each part is a no-op if Rasa no longer has the method it replaces (a newer Rasa)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event

    current = getattr(RemoteAction, "_validate_action_result", None)
    if current is not None and not getattr(current, _MARK, False):
        setattr(_validate_action_result, _MARK, True)
        RemoteAction._validate_action_result = _validate_action_result
    walk = getattr(Event, "resolve_by_type", None)
    if walk is not None and not getattr(walk, _MARK, False):
        Event.resolve_by_type = staticmethod(_remembering_event_classes(walk))
