"""The flow table, the generated rules and the domain agree with each other and with the taxonomy."""
import yaml

from bot import flows
from bot.settings import REPO_ROOT


def _domain() -> dict:
    merged: dict = {"intents": [], "actions": [], "forms": {}, "responses": {}, "slots": {}}
    for part in sorted((REPO_ROOT / "bot" / "domain").glob("*.yml")):
        data = yaml.safe_load(part.read_text(encoding="utf-8"))
        merged["intents"] += data.get("intents", [])
        # an action is a name, or {name: {send_domain: true}}
        merged["actions"] += [next(iter(a)) if isinstance(a, dict) else a for a in data.get("actions", [])]
        for key in ("forms", "responses", "slots"):
            merged[key].update(data.get(key, {}))
    return merged


def test_generated_rules_are_current():
    assert flows.main(["--check"]) == 0


def test_every_task_intent_has_exactly_one_flow():
    taxonomy = yaml.safe_load((REPO_ROOT / "intents" / "taxonomy.yml").read_text(encoding="utf-8"))
    tasks = {name for name, spec in taxonomy["intents"].items() if spec["kind"] == "task"}
    assert set(flows.TASK_ENTRY) == tasks
    assert flows.LOGIN_REQUIRED <= tasks


def test_flows_name_only_forms_and_actions_the_domain_declares():
    domain = _domain()
    known = set(domain["actions"]) | set(domain["forms"])
    assert set(flows.TASK_ENTRY.values()) <= known
    assert set(flows.FORM_SUBMIT) == set(domain["forms"])
    assert set(flows.FORM_SUBMIT.values()) <= set(domain["actions"])


def test_every_required_slot_is_asked_somehow():
    domain = _domain()
    for form, spec in domain["forms"].items():
        for slot in spec["required_slots"]:
            askers = {f"action_ask_{form}_{slot}", f"action_ask_{slot}", f"utter_ask_{form}_{slot}",
                      f"utter_ask_{slot}"}
            assert askers & (set(domain["actions"]) | set(domain["responses"])), (form, slot)
            assert slot in domain["slots"], slot


def test_no_response_or_flow_asks_for_a_password_or_sms_code():
    domain = _domain()
    texts = [v["text"] for variants in domain["responses"].values() for v in variants]
    asking = ("请输入密码", "请提供密码", "告诉我密码", "请发送验证码", "请提供验证码", "输入验证码")
    assert not [t for t in texts if any(a in t for a in asking)]
