"""Four per-turn costs of Rasa 3.6 that grow with traffic or with the conversation, removed.

1. Rasa re-validates its own JSON schema on every action-server reply; we validate with one
   compiled validator, and each event against only the branch of the schema's ``oneOf`` that its
   name selects (jsonschema tries all 23 branches for every event: ~2.5 ms per reply, a fifth of
   the event loop's time under load).
2. Rasa finds an event's class by walking every subclass of `Event` for every stored event it reads.
   A tracker of a 500-turn conversation holds thousands of events, and py-spy showed a quarter
   of such a turn in that walk. We keep what each walk found.
3. Rasa opens a new HTTP client session, and so a new TCP connection (and a `localhost` lookup),
   for every call to the action server: several per turn. We keep one session per endpoint and
   event loop, whose connections are reused (idle ones closed after 2 s, before the action
   server's 5 s keep-alive ends, so a request never goes out on a connection being closed). It
   encodes the request (the whole tracker) with ujson: 0.48 instead of 1.05 ms for a 98 KB one.
4. RulePolicy finds the rules that match the conversation by filtering all its rules once per
   state of the whole session history (a set rebuilt per state). A rule only constrains as many
   states as it has (Rasa's own check answers "applicable" past a rule's length), so we check each
   rule against its own length only, with the same per-state check, on the rule's states parsed
   once (Rasa parsed the rule's JSON key again for every state it checked), and only the rules
   that can match the latest state: they are indexed by the previous action their latest state
   names. Same rules found.

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
(unknown names still go through the walk and its error). For 3 it replaces
`EndpointConfig.session` with one that hands out the kept session and does not close it on exit.
All are installed when the Rasa server loads our policy (bot/dialogue/policy.py).
"""
from __future__ import annotations

import asyncio
import copy
import functools
import json
from typing import Any, Callable, Dict, List, Optional, Set, Text, Tuple

from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET
from rasa.shared.nlu.constants import ACTION_NAME

_MARK = "_installed_by_rasa_speedups"


@functools.lru_cache(maxsize=1)
def _action_reply_validator() -> Any:
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)  # once, not per reply
    return cls(schema)


@functools.lru_cache(maxsize=1)
def _events_by_name() -> Optional[Tuple[Any, Dict[Text, Any]]]:
    """The reply schema split at its one costly spot, ``events.items.oneOf``: a validator for the
    reply without that ``oneOf``, and one validator per event name for its branch. Every branch pins
    ``event`` to its own constant, so an event passes the ``oneOf`` exactly when the one branch named
    like it accepts it. None when the schema is not shaped like that (a newer Rasa): no fast path."""
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = copy.deepcopy(RemoteAction.action_response_format_spec())
    items = schema.get("properties", {}).get("events", {}).get("items", {})
    branches = items.pop("oneOf", None)
    if not branches or "$ref" in json.dumps(schema) or "$ref" in json.dumps(branches):
        return None
    cls = validators.validator_for(schema)
    by_name: Dict[Text, Any] = {}
    for branch in branches:
        name = branch.get("properties", {}).get("event", {}).get("const")
        if not isinstance(name, str) or name in by_name:
            return None
        by_name[name] = cls(branch)
    return cls(schema), by_name


def _plainly_valid(result: Any) -> bool:
    """True only if the reply is valid; False means "ask jsonschema" (invalid, or no fast path)."""
    split = _events_by_name()
    if split is None or not split[0].is_valid(result):
        return False
    by_name = split[1]
    for event in result.get("events") or []:
        branch = by_name.get(event.get("event"))
        if branch is None or not branch.is_valid(event):
            return False
    return True


def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    from jsonschema import exceptions
    from rasa.shared.constants import DOCS_BASE_URL

    if _plainly_valid(result):
        return True
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


def _possible_rule_keys(self: Any, lookup: Dict[Text, Text], states: List[Any]) -> Set[Text]:
    """RulePolicy._get_possible_keys: the keys whose every state matches the conversation's state
    that many turns back; ``_is_rule_applicable`` is true beyond a rule's length, so we stop there."""
    latest_first = list(reversed(states))
    if not latest_first:
        return set(lookup)
    return {key for key in _candidate_rule_keys(self, lookup, latest_first[0])
            if _rule_applies(self, _rule_states_latest_first(key), latest_first)}


def _candidate_rule_keys(policy: Any, lookup: Dict[Text, Text], latest: Dict[Text, Any]) -> List[Text]:
    """The keys that can match the latest state: a rule whose latest state names a previous action
    matches only a conversation whose latest previous action has that name (the first check of
    ``_is_rule_applicable``), so rules are indexed by that name. Rules naming none are always candidates."""
    kept = policy.__dict__.get("_rule_index")
    if kept is None or kept[0] is not lookup or len(kept[0]) != kept[1]:
        kept = policy.__dict__["_rule_index"] = (lookup, len(lookup), _index_by_last_action(lookup))
    by_name = kept[2]
    name = (latest.get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
    named = by_name.get(name, []) if isinstance(name, str) else []
    return named + by_name[None]


def _index_by_last_action(lookup: Dict[Text, Text]) -> Dict[Optional[Text], List[Text]]:
    index: Dict[Optional[Text], List[Text]] = {None: []}
    for key in lookup:
        states = _rule_states_latest_first(key)
        name = (states[0].get(PREVIOUS_ACTION) or {}).get(ACTION_NAME) if states else None
        index.setdefault(name if isinstance(name, str) and name and name != SHOULD_NOT_BE_SET else None,
                         []).append(key)
    return index


@functools.lru_cache(maxsize=16384)
def _rule_states_latest_first(key: Text) -> Tuple[Dict[Text, Any], ...]:
    """A rule key's states, newest first (Rasa parses the key's JSON again for every state it checks).
    Read-only: shared by every lookup."""
    return tuple(reversed(json.loads(key)))


def _rule_applies(policy: Any, rule_states: Tuple[Dict[Text, Any], ...], latest_first: List[Any]) -> bool:
    """RulePolicy._is_rule_applicable for each turn the rule has, on already parsed states."""
    for rule_state, state in zip(rule_states, latest_first):
        in_rule, in_conversation = rule_state.get(PREVIOUS_ACTION), state.get(PREVIOUS_ACTION)
        if not in_rule and not in_conversation:  # both conversation starts
            continue
        if not in_rule or not in_conversation or not policy._does_rule_match_state(rule_state, state):
            return False
    return True


KEEPALIVE_S = 2.0  # shorter than Sanic's default 5 s keep-alive of the action server


class _KeptSession:
    """What `async with endpoint.session() as session` gets: the endpoint's kept session, left open."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *_exc: Any) -> None:
        return None


def _kept_session(self: Any) -> _KeptSession:
    import aiohttp
    import ujson
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

    loop = asyncio.get_running_loop()
    kept = self.__dict__.get("_kept_session")
    if kept is None or kept[0] is not loop or kept[1].closed:
        auth = (aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
                if self.basic_auth else None)
        # ujson: the request is the whole tracker, and ujson encodes it in half the time of json
        session = aiohttp.ClientSession(headers=self.headers, auth=auth, json_serialize=ujson.dumps,
                                        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                                        connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_S))
        kept = self.__dict__["_kept_session"] = (loop, session)
    return _KeptSession(kept[1])


def install() -> None:
    """Idempotent; each part is a no-op if Rasa no longer has the method it replaces (a newer Rasa)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event

    current = getattr(RemoteAction, "_validate_action_result", None)
    if current is not None and not getattr(current, _MARK, False):
        setattr(_validate_action_result, _MARK, True)
        RemoteAction._validate_action_result = _validate_action_result
    from rasa.utils.endpoints import EndpointConfig

    if not getattr(EndpointConfig.session, _MARK, False):
        setattr(_kept_session, _MARK, True)
        EndpointConfig.session = _kept_session
    from rasa.core.policies.rule_policy import RulePolicy

    if hasattr(RulePolicy, "_get_possible_keys") and not getattr(RulePolicy._get_possible_keys, _MARK, False):
        setattr(_possible_rule_keys, _MARK, True)
        _possible_rule_keys.rasas = RulePolicy._get_possible_keys  # type: ignore[attr-defined]  # tests compare
        RulePolicy._get_possible_keys = _possible_rule_keys
    walk = getattr(Event, "resolve_by_type", None)
    if walk is not None and not getattr(walk, _MARK, False):
        Event.resolve_by_type = staticmethod(_remembering_event_classes(walk))
