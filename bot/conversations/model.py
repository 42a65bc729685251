"""Conversation files: load and validate them into Dialogue / Turn objects.

Format (the header of shared/eval/dev_dialogues.yml defines it)::

    version: 1
    dialogues:
      - id: some_unique_id
        customer: C001          # or null: anonymous (no customer token on any turn)
        xfail: "why it fails"   # optional: a known failure, reported as XFAIL (or XPASS)
        turns:
          - user: "what the customer says"
            expect: {flow: transfer_money, asks: amount, slots: {payee: "李四"}}

Every problem is reported as a DialogueFileError naming the file, the dialogue, the turn and the
key, with a hint how to fix it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SUPPORTED_VERSION = 1
DIALOGUE_KEYS = ("id", "customer", "turns", "xfail")
TURN_KEYS = ("user", "expect")


class DialogueFileError(ValueError):
    """A conversation file that cannot be used; the message says where and how to fix it."""


@dataclass(frozen=True)
class Turn:
    user: str
    expect: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Dialogue:
    id: str
    customer: str | None
    turns: list[Turn]
    xfail: str | None = None
    source: Path | None = None


# --- validators: each returns the (normalised) value or raises TypeError with what it wants -----

def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError("a non-empty string")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("true or false")
    return value


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise TypeError('a list of non-empty strings, e.g. ["网点", "柜台"]')
    return list(value)


def _asks(value: Any) -> str | list[str] | None:
    if value is None or isinstance(value, str):
        return _optional_text(value)
    try:
        return _texts(value)
    except TypeError:
        raise TypeError("a slot name, a list of slot names (any of them), or none") from None


def _slots(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise TypeError('a mapping of slot names to values, e.g. {payee: "李四", amount: 1200}')
    for name, slot_value in value.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"slot names that are strings (got {name!r})")
        if slot_value is not None and not isinstance(slot_value, (str, int, float, bool)):
            raise TypeError(f"scalar slot values (slot {name!r} has {type(slot_value).__name__})")
    return dict(value)


EXPECT_KEYS: dict[str, Callable[[Any], Any]] = {
    "flow": _optional_text,
    "asks": _asks,
    "slots": _slots,
    "faq_id": _text,
    "faq_id_2": _text,
    "no_faq": _flag,
    "handoff": _flag,
    "buttons": _flag,
    "says_any": _texts,
    "says_none": _texts,
    "says_any_2": _texts,
}


# --- loading ------------------------------------------------------------------------------------

def _where(path: Path, dialogue: str | None = None, turn: int | None = None) -> str:
    where = str(path)
    if dialogue is not None:
        where += f": dialogue {dialogue!r}"
    if turn is not None:
        where += f" turn {turn}"
    return where


def _check_keys(found: dict, allowed: tuple[str, ...], where: str, what: str) -> None:
    unknown = [k for k in found if k not in allowed]
    if unknown:
        raise DialogueFileError(f"{where}: unknown {what} key {unknown[0]!r}; "
                                f"allowed keys: {', '.join(allowed)}")


def _expect(raw: Any, where: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise DialogueFileError(f"{where}: `expect` must be a mapping such as "
                                f"{{flow: none, says_any: [...]}}, not {type(raw).__name__}")
    _check_keys(raw, tuple(EXPECT_KEYS), where, "expect")
    expect: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            expect[key] = EXPECT_KEYS[key](value)
        except TypeError as exc:
            raise DialogueFileError(f"{where}: expect key {key!r} must be {exc}, not {value!r}") from None
    return expect


def _turn(raw: Any, where: str) -> Turn:
    if not isinstance(raw, dict):
        raise DialogueFileError(f"{where}: a turn must be a mapping `- user: \"...\"` "
                                "(with an optional `expect`)")
    _check_keys(raw, TURN_KEYS, where, "turn")
    if "user" not in raw:
        raise DialogueFileError(f"{where}: missing `user` (the customer's message for this turn)")
    if not isinstance(raw["user"], str) or not raw["user"].strip():
        raise DialogueFileError(f"{where}: `user` must be a non-empty string; quote it if YAML reads it as "
                                f"another type (got {raw['user']!r})")
    return Turn(user=raw["user"], expect=_expect(raw.get("expect"), where))


def _dialogue(raw: Any, path: Path, index: int) -> Dialogue:
    if not isinstance(raw, dict):
        raise DialogueFileError(f"{path}: dialogue #{index + 1} must be a mapping with `id` and `turns`")
    ident = raw.get("id")
    if not isinstance(ident, str) or not ident.strip():
        raise DialogueFileError(f"{path}: dialogue #{index + 1} needs an `id` (a non-empty string)")
    where = _where(path, ident)
    _check_keys(raw, DIALOGUE_KEYS, where, "dialogue")
    customer = raw.get("customer")
    if customer is not None and (not isinstance(customer, str) or not customer.strip()):
        raise DialogueFileError(f"{where}: `customer` must be a customer id such as C001, "
                                "or null (anonymous)")
    xfail = raw.get("xfail")
    if xfail is not None and (not isinstance(xfail, str) or not xfail.strip()):
        raise DialogueFileError(f"{where}: `xfail` must be a reason (a non-empty string), e.g. xfail: \"…\"")
    turns = raw.get("turns")
    if not isinstance(turns, list) or not turns:
        raise DialogueFileError(f"{where}: `turns` must be a non-empty list of `- user: \"...\"` items")
    return Dialogue(id=ident, customer=customer, xfail=xfail, source=path,
                    turns=[_turn(t, _where(path, ident, n)) for n, t in enumerate(turns, start=1)])


def parse_dialogues(text: str, path: Path) -> list[Dialogue]:
    """The dialogues of a conversation file's text (`path` is only used in messages)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DialogueFileError(f"{path}: not valid YAML{at}: {problem} (check the indentation and quote "
                                "texts that contain ':' or '#')") from None
    if not isinstance(data, dict):
        raise DialogueFileError(f"{path}: expected a mapping with `version: {SUPPORTED_VERSION}` and "
                                "`dialogues:` at the top level")
    if data.get("version") != SUPPORTED_VERSION:
        found = data.get("version")
        raise DialogueFileError(f"{path}: `version` must be {SUPPORTED_VERSION} (got {found!r}); "
                                f"put `version: {SUPPORTED_VERSION}` at the top")
    _check_keys(data, ("version", "dialogues"), str(path), "top-level")
    raw_dialogues = data.get("dialogues")
    if not isinstance(raw_dialogues, list):
        raise DialogueFileError(f"{path}: `dialogues` must be a list of `- id: ...` items")
    dialogues = [_dialogue(raw, path, i) for i, raw in enumerate(raw_dialogues)]
    seen: set[str] = set()
    for dialogue in dialogues:
        if dialogue.id in seen:
            raise DialogueFileError(f"{path}: dialogue id {dialogue.id!r} is used twice; ids must be unique")
        seen.add(dialogue.id)
    return dialogues


def load_dialogues(path: Path) -> list[Dialogue]:
    """The dialogues of one conversation file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DialogueFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DialogueFileError(f"{path}: cannot be read ({exc}); it must be a UTF-8 YAML file") from None
    return parse_dialogues(text, path)


def conversation_files(paths: list[Path]) -> list[Path]:
    """The files named, with every *.yml / *.yaml file (recursively) of the folders named."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml"))
            if not found:
                raise DialogueFileError(f"{path}: folder holds no *.yml conversation files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise DialogueFileError(f"{path}: no such file or folder")
    return list(dict.fromkeys(files))
