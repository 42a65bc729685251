"""Our fixes to Rasa internals: compiled reply validation, event classes, and the action-server outage reply."""
import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.constants import SHOULD_NOT_BE_SET

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


def test_action_server_calls_reuse_one_connection_and_survive_its_idle_close():
    """Rasa's endpoint requests go through one kept session: two calls share a TCP connection, the
    `async with` of Rasa's code does not close it, and a call after the idle close opens a new one."""
    import asyncio

    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    from tests.conftest import free_port

    rasa_speedups.install()
    peers: list = []

    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername")[1])  # the client's port: one per connection
        return web.json_response({"events": [], "responses": [], "seen": await request.json()})

    async def main() -> list:
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
        try:
            replies = [await endpoint.request(json={"n": n}, method="post") for n in range(2)]
            await asyncio.sleep(rasa_speedups.KEEPALIVE_S + 0.5)
            replies.append(await endpoint.request(json={"n": 2}, method="post"))
            return replies
        finally:
            await runner.cleanup()

    replies = asyncio.run(main())
    assert [reply["seen"] for reply in replies] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert peers[0] == peers[1] and peers[2] != peers[0]


EVENT_NAMES = ["user", "action", "slot", "entities", "bot", "active_loop", "followup", "reset_slots",
               "session_started", "action_execution_rejected", "no_such_event", None]
VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5),
                   st.lists(st.integers(), max_size=2),
                   st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
EVENTS = st.builds(lambda name, extra: {**({"event": name} if name is not None else {}), **extra},
                   st.sampled_from(EVENT_NAMES),
                   st.dictionaries(st.sampled_from(["name", "value", "text", "timestamp", "metadata", "entities",
                                                    "parse_data", "data", "policy"]), VALUES, max_size=4))
REPLIES = st.one_of(st.fixed_dictionaries({"events": st.lists(EVENTS, max_size=4)},
                                          optional={"responses": st.lists(st.one_of(
                                              st.fixed_dictionaries({"response": st.text(max_size=5)}),
                                              VALUES), max_size=2)}),
                    st.dictionaries(st.sampled_from(["events", "responses"]), VALUES, max_size=2))


@settings(max_examples=400, deadline=None)
@given(REPLIES)
def test_the_per_branch_check_agrees_with_jsonschema_on_any_reply(reply):
    """The fast path says "valid" exactly when jsonschema's full oneOf check does."""
    assert rasa_speedups._plainly_valid(reply) == (_rasa_verdict(reply) is None)


SUB_STATES = {
    "prev_action": st.one_of(
        st.fixed_dictionaries({"action_name": st.sampled_from(["action_listen", "utter_hi", "faq_form", "",
                                                               SHOULD_NOT_BE_SET])}),
        st.fixed_dictionaries({"action_text": st.sampled_from(["hi", "bye"])}), st.just({})),
    "user": st.fixed_dictionaries({"intent": st.sampled_from(["greet", "faq", "transfer",
                                                              SHOULD_NOT_BE_SET])}),
    "slots": st.dictionaries(st.sampled_from(["amount", "payee"]),
                             st.sampled_from([(1.0,), (0.0,), SHOULD_NOT_BE_SET]), max_size=2),
    "active_loop": st.fixed_dictionaries({"name": st.sampled_from(["transfer_form", SHOULD_NOT_BE_SET])}),
}
STATES = st.lists(st.fixed_dictionaries({}, optional=SUB_STATES), max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(STATES.filter(bool), min_size=1, max_size=12), STATES)
def test_rule_lookup_finds_the_same_rules_as_rasas(rules, conversation):
    """The same keys as Rasa's filter over the whole history, for rules and conversations of any length."""
    import json

    from rasa.core.policies.rule_policy import RulePolicy

    rasa_speedups.install()
    policy = object.__new__(RulePolicy)  # the lookup methods read no trained state
    lookup = {json.dumps(rule): "action" for rule in rules}
    ours = RulePolicy._get_possible_keys(policy, lookup, conversation)
    assert ours == RulePolicy._get_possible_keys.rasas(policy, lookup, conversation)
    lookup.pop(next(iter(lookup)))  # Rasa's training drops rules in place: the index must follow
    assert RulePolicy._get_possible_keys(policy, lookup, conversation) == \
        RulePolicy._get_possible_keys.rasas(policy, lookup, conversation)
