"""Customer-facing text lives in domain responses, each with a Chinese default and an English variation.

- every response has an unconditioned (Chinese) first variation and one for `language: en`, with the
  same placeholders and the same button payloads;
- every response name the actions use exists, and every {placeholder} is a slot or a value the actions
  pass for that response (read from the action code with `ast`);
- the flow modules compose no reply text in Python (`utter_message(text=...)`), except where it is data;
- a few actions rendered through Rasa's response generator, in both languages.
"""
from __future__ import annotations

import ast
import datetime as dt
import re
from collections import defaultdict
from typing import Dict, Iterator, List, Set, Tuple

import pytest
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.settings import REPO_ROOT

ACTIONS = REPO_ROOT / "bot" / "actions"
ENGLISH = [{"type": "slot", "name": "language", "value": "en"}]
# The flow modules whose replies must all be domain responses.
OWNED = ("accounts", "branches", "cards", "credit_card", "forms", "login", "products", "service", "transfer")
# utter_message(text=...) that may stay in those modules: (module, function) -> why the text is data.
# (None today. bot/actions/common.call_bank shows a bank refusal's message_zh and faq.py shows knowledge
# answers; neither module is checked here.)
TEXT_ALLOWED: Dict[Tuple[str, str], str] = {}
# Keywords of utter_message that are not template values.
NOT_VALUES = {"response", "template", "text", "buttons", "elements", "json_message", "image", "attachment"}
# Reply text may contain these Chinese words in English: the bank's name; anything quoted (app menus, names)
# and values filled in from the bank's data are checked separately.
CHINESE_IN_ENGLISH = ("示例银行",)
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(REPO_ROOT / "bot" / "domain"))


def _placeholders(text: str) -> Set[str]:
    """{name} placeholders as Rasa fills them; doubled braces are literal."""
    return set(re.findall(r"\{([^\n{}]+?)\}", (text or "").replace("{{", "").replace("}}", "")))


def _variation_placeholders(variation: dict) -> Set[str]:
    found = _placeholders(variation.get("text"))
    for button in variation.get("buttons") or []:
        found |= _placeholders(button.get("title")) | _placeholders(button.get("payload"))
    return found


# --- (a) every response: a Chinese default first, and an English variation ---------------------------------

def test_every_domain_file_loads(domain):
    """A file Rasa cannot parse is silently left out of the domain; that must not go unnoticed."""
    for path in sorted((REPO_ROOT / "bot" / "domain").glob("*.yml")):
        assert Domain.is_domain_file(path), f"{path.name} is not a valid domain file"
    assert "language" in {slot.name for slot in domain.slots}


def test_every_response_has_a_default_and_an_english_variation(domain):
    assert domain.responses
    problems = []
    for name, variations in domain.responses.items():
        if variations[0].get("condition"):
            problems.append(f"{name}: the first variation must be the unconditioned (Chinese) default")
        defaults = [v for v in variations if not v.get("condition")]
        english = [v for v in variations if v.get("condition") == ENGLISH]
        if len(defaults) != 1:
            problems.append(f"{name}: {len(defaults)} unconditioned variations (want exactly one)")
        if len(english) != 1:
            problems.append(f"{name}: {len(english)} variations with condition language=en (want exactly one)")
            continue
        if not all(v.get("text") for v in defaults + english):
            problems.append(f"{name}: a variation without text")
            continue
        zh, en = defaults[0], english[0]
        if _variation_placeholders(zh) != _variation_placeholders(en):
            problems.append(f"{name}: placeholders differ: {_variation_placeholders(zh)} vs "
                            f"{_variation_placeholders(en)}")
        if [b["payload"] for b in zh.get("buttons") or []] != [b["payload"] for b in en.get("buttons") or []]:
            problems.append(f"{name}: the English buttons must have the same payloads, in the same order")
    assert not problems, "\n".join(problems)


def test_english_variations_are_english(domain):
    """No Chinese in an English text, except the bank's name and quoted names (app menus, products)."""
    problems = []
    for name, variations in domain.responses.items():
        for variation in variations:
            if variation.get("condition") != ENGLISH:
                continue
            parts = [variation["text"]] + [b["title"] for b in variation.get("buttons") or []]
            for part in parts:
                rest = re.sub(r"\"[^\"]*\"", "", part)
                for allowed in CHINESE_IN_ENGLISH:
                    rest = rest.replace(allowed, "")
                if CJK.search(rest):
                    problems.append(f"{name}: {part!r}")
    assert not problems, "\n".join(problems)


# --- (b) response names and template values used by the actions --------------------------------------------

def _modules() -> Iterator[Tuple[str, ast.Module]]:
    for path in sorted(ACTIONS.glob("*.py")):
        yield path.stem, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _utter_names(node: ast.AST) -> Set[str]:
    return {n.value for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and re.fullmatch(r"utter_\w+", n.value)}


def _dict_keys(node: ast.AST) -> Set[str] | None:
    """The keys of `dict(a=..)` or `{"a": ..}`, else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
        return {k.arg for k in node.keywords if k.arg}
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
        return {k.value for k in node.keys}
    return None


class _Call:
    def __init__(self, module: str, function: str, node: ast.Call, names: Set[str], values: Set[str],
                 dynamic: bool, has_text: bool, expands: bool):
        self.module, self.function, self.node = module, function, node
        self.names, self.values, self.dynamic = names, values, dynamic
        self.has_text, self.expands = has_text, expands

    def where(self) -> str:
        return f"bot/actions/{self.module}.py:{self.node.lineno} ({self.function})"


def _calls() -> List[_Call]:
    """Every dispatcher.utter_message(...) and reply(...) call, with the response(s) it names and its values."""
    found = []
    for module, tree in _modules():
        for function in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
            local_dicts = {}
            for node in ast.walk(function):
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    keys = _dict_keys(node.value)
                    if keys is not None:
                        local_dicts[node.targets[0].id] = keys
            for node in ast.walk(function):
                if not isinstance(node, ast.Call):
                    continue
                is_utter = isinstance(node.func, ast.Attribute) and node.func.attr == "utter_message"
                is_reply = isinstance(node.func, ast.Name) and node.func.id == "reply"
                if not (is_utter or is_reply):
                    continue
                response = next((k.value for k in node.keywords if k.arg == "response"), None)
                if is_reply and response is None and node.args:
                    response = node.args[0]
                values, expands = set(), False
                for keyword in node.keywords:
                    if keyword.arg is None:  # **something
                        expands = True
                        if isinstance(keyword.value, ast.Name) and keyword.value.id in local_dicts:
                            values |= local_dicts[keyword.value.id]
                    elif keyword.arg not in NOT_VALUES:
                        values.add(keyword.arg)
                names = _utter_names(response) if response is not None else set()
                found.append(_Call(module, function.name, node, names, values,
                                   dynamic=response is not None and not names,
                                   has_text=any(k.arg == "text" for k in node.keywords) or bool(is_utter and node.args),
                                   expands=expands))
    return found


def test_every_response_name_in_the_actions_exists(domain):
    missing = []
    for module, tree in _modules():
        for name in sorted(_utter_names(tree)):
            if name not in domain.responses:
                missing.append(f"bot/actions/{module}.py: {name}")
    assert not missing, "responses used by actions but not in the domain:\n" + "\n".join(missing)


def test_every_placeholder_is_a_slot_or_a_value_the_actions_pass(domain):
    slots = {slot.name for slot in domain.slots}
    calls = _calls()
    passed: Dict[str, Set[str]] = defaultdict(set)     # response -> values passed with its name
    dynamic: Dict[str, Set[str]] = defaultdict(set)    # module -> values passed with a computed name
    mentioned: Dict[str, Set[str]] = defaultdict(set)  # response -> modules that name it
    for call in calls:
        for name in call.names:
            passed[name] |= call.values
        if call.dynamic:
            dynamic[call.module] |= call.values
    for module, tree in _modules():
        for name in _utter_names(tree):
            mentioned[name].add(module)

    problems = []
    for name, variations in domain.responses.items():
        allowed = slots | passed[name] | set().union(*(dynamic[m] for m in mentioned[name]))
        for variation in variations:
            for placeholder in sorted(_variation_placeholders(variation) - allowed):
                problems.append(f"{name}: {{{placeholder}}} is neither a slot nor passed by any action")
    # Each call that names its response(s) passes every placeholder that is not a slot.
    for call in calls:
        if call.expands and not call.values:
            continue  # utter_message(**reply(...)): checked at the reply(...) call
        for name in call.names & set(domain.responses):
            needed = set().union(*(_variation_placeholders(v) for v in domain.responses[name])) - slots
            for placeholder in sorted(needed - call.values):
                problems.append(f"{call.where()}: {name} needs {{{placeholder}}}, which this call does not pass")
    assert not problems, "\n".join(problems)


# --- (c) no reply text composed in the flow modules -----------------------------------------------------------

def test_flow_modules_send_responses_not_text():
    problems = []
    for call in _calls():
        if call.module not in OWNED or not isinstance(call.node.func, ast.Attribute):
            continue
        if call.has_text and (call.module, call.function) not in TEXT_ALLOWED:
            problems.append(f"{call.where()}: utter_message(text=...); use a domain response")
        if not call.has_text and not call.names and not call.dynamic and not call.expands:
            problems.append(f"{call.where()}: utter_message without a response")
    assert not problems, "\n".join(problems)


def test_the_allow_list_names_real_functions():
    functions = {(module, n.name) for module, tree in _modules() for n in ast.walk(tree)
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    assert set(TEXT_ALLOWED) <= functions


# --- rendered in both languages -------------------------------------------------------------------------------

@pytest.fixture
def bank(tmp_path, monkeypatch):
    from bot.actions import accounts, common, credit_card, forms, products, transfer
    from bot.banking.sandbox import SandboxBank

    monkeypatch.setenv("ASSISTANT_SECRETS_DIR", str(tmp_path / "secrets"))
    sandbox = SandboxBank(f"sqlite:///{tmp_path / 'bank.db'}", today=lambda: dt.date(2026, 11, 24))
    for module in (common, forms, accounts, credit_card, products, transfer):
        monkeypatch.setattr(module, "backend", lambda: sandbox)
    return sandbox


def _tracker(domain: Domain, language: str | None, customer: str | None = None, slots: dict | None = None,
             entities: list | None = None) -> Tracker:
    from bot.identity import identity_metadata

    metadata = identity_metadata(customer, "rest", "rest:s1", "m1")
    latest = {"text": "x", "intent": {"name": "x"}, "entities": entities or [], "metadata": metadata}
    events = [{"event": "user", "text": "x", "message_id": "m1", "metadata": metadata}]
    values = {slot.name: None for slot in domain.slots}
    values.update(slots or {}, language=language)
    return Tracker("rest:s1", values, latest, events, False, None, {}, "action_listen")


def _said(domain: Domain, action, tracker: Tracker) -> List[dict]:
    """What the customer sees: the action's messages rendered as Rasa does for a custom action's replies."""
    dispatcher = CollectingDispatcher()
    action.run(dispatcher, tracker, {})
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    shown = []
    for message in dispatcher.messages:
        message = dict(message)
        name = message.pop("response", None)
        draft = nlg.generate_from_slots(name, tracker.current_slot_values(), "rest", **message) if name else {}
        assert draft is not None, name
        draft.setdefault("buttons", [])
        draft["buttons"] = (draft["buttons"] or []) + (message.pop("buttons", None) or [])
        if not name:
            draft["text"] = message.get("text")
        assert "{" not in (draft.get("text") or ""), f"unfilled placeholder in {name}: {draft.get('text')}"
        shown.append(draft)
    return shown


def test_balance_in_chinese_and_english(domain, bank):
    from bot.actions.accounts import ActionCheckBalance

    [zh] = _said(domain, ActionCheckBalance(), _tracker(domain, None, "C001"))
    assert zh["text"].startswith("您的账户余额如下：\n") and "借记卡 尾号6688：CNY 可用余额 52,380.50 元" in zh["text"]
    [en] = _said(domain, ActionCheckBalance(), _tracker(domain, "en", "C001"))
    assert en["text"].startswith("Here are your account balances:\n")
    assert "Debit card ending 6688: CNY 52,380.50 available" in en["text"] and not CJK.search(en["text"])


def test_exchange_rates_in_chinese_and_english(domain, bank):
    from bot.actions.products import ActionExchangeRate

    usd = [{"entity": "currency", "value": "USD"}]
    [zh] = _said(domain, ActionExchangeRate(), _tracker(domain, "zh", entities=usd))
    assert zh["text"].startswith("示例银行外汇牌价（") and "· 美元 USD：现汇买入" in zh["text"] and "欧元" not in zh["text"]
    [en] = _said(domain, ActionExchangeRate(), _tracker(domain, "en", entities=usd))
    assert "US dollar (USD): TT buying" in en["text"] and "Euro" not in en["text"]


def test_transfer_confirmation_in_chinese_and_english(domain, bank):
    from bot.actions.transfer import ActionAskTransferConfirm

    slots = {"card_last4": "4872", "payee": "李四", "amount": "1200"}
    [zh] = _said(domain, ActionAskTransferConfirm(), _tracker(domain, None, "C001", slots))
    assert zh["text"] == ("请核对：从借记卡尾号 4872 向 李四 转账 1,200.00 元。确认后还需在示例银行App中完成安全验证才会转出。"
                          "确认提交吗？")
    assert zh["buttons"] == [{"title": "确认转账", "payload": "/affirm"}, {"title": "取消", "payload": "/deny"}]
    [en] = _said(domain, ActionAskTransferConfirm(), _tracker(domain, "en", "C001", slots))
    assert "CNY 1,200.00" in en["text"] and "4872" in en["text"] and "李四" in en["text"]
    assert [b["title"] for b in en["buttons"]] == ["Confirm transfer", "Cancel"]


def test_card_buttons_keep_their_order_after_the_question(domain, bank):
    from bot.actions.cards import ActionAskCardLossCard

    [zh] = _said(domain, ActionAskCardLossCard(), _tracker(domain, None, "C001"))
    assert zh["text"] == "请问要挂失哪张卡？请选择，或告诉我卡号后四位。"
    assert [b["title"] for b in zh["buttons"]] == ["借记卡 尾号4872", "借记卡 尾号6688", "信用卡 尾号1024"]
    [en] = _said(domain, ActionAskCardLossCard(), _tracker(domain, "en", "C001"))
    assert [b["title"] for b in en["buttons"]] == ["Debit card ending 4872", "Debit card ending 6688",
                                                  "Credit card ending 1024"]
    assert [b["payload"] for b in en["buttons"]] == [b["payload"] for b in zh["buttons"]]


def test_repay_choices_fill_titles_and_payloads(domain, bank):
    from bot.actions.credit_card import ActionAskRepayAmount

    [zh] = _said(domain, ActionAskRepayAmount(), _tracker(domain, None, "C001", {"card_last4": "1024"}))
    [en] = _said(domain, ActionAskRepayAmount(), _tracker(domain, "en", "C001", {"card_last4": "1024"}))
    assert zh["buttons"][0]["title"].startswith("全额还款 ") and zh["buttons"][0]["title"].endswith(" 元")
    assert en["buttons"][0]["title"].startswith("Pay in full (CNY ")
    for shown in (zh, en):
        assert [b["payload"] for b in shown["buttons"]] == [b["payload"] for b in zh["buttons"]]
        assert all(re.fullmatch(r'/inform\{"amount": "[\d.]+"\}', b["payload"]) for b in shown["buttons"])


def test_corrected_values_are_shown_in_the_customers_language():
    from bot.actions.forms import display_value

    assert display_value("amount", "300") == "300.00 元" and display_value("amount", "300", True) == "CNY 300.00"
    assert display_value("card_last4", "4872") == "尾号4872"
    assert display_value("card_last4", "4872", True) == "the one ending 4872"
    assert display_value("city", "北京") == "北京" and display_value("city", "北京", True) == "Beijing"
