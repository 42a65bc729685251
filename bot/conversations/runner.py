"""Replay dialogues against an assistant, and report the results (text and JSON)."""
from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot.conversations.check import Mismatch, check
from bot.conversations.client import AssistantClient, ClientError, customer_token, new_sender
from bot.conversations.model import Dialogue, Turn
from bot.conversations.observe import Observation, observe

REPLY_CHARS = 200


@dataclass
class TurnResult:
    index: int
    turn: Turn
    mismatches: list[Mismatch] = field(default_factory=list)
    observation: Observation | None = None
    replies: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    skipped: bool = False

    @property
    def passed(self) -> bool:
        return self.error is None and not self.skipped and not self.mismatches

    def to_dict(self) -> dict[str, Any]:
        return {"turn": self.index, "user": self.turn.user, "expect": self.turn.expect, "passed": self.passed,
                "skipped": self.skipped, "error": self.error,
                "mismatches": [m.to_dict() for m in self.mismatches],
                "replies": [{k: v for k, v in r.items() if k != "recipient_id"} for r in self.replies],
                "observed": self.observation.to_dict() if self.observation else None}


@dataclass
class DialogueResult:
    dialogue: Dialogue
    conversation_id: str
    turns: list[TurnResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.turns)

    @property
    def status(self) -> str:
        """pass, fail, xfail (known failure) or xpass (a known failure that now passes)."""
        if self.dialogue.xfail:
            return "xpass" if self.passed else "xfail"
        return "pass" if self.passed else "fail"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.dialogue.id, "file": str(self.dialogue.source or ""),
                "customer": self.dialogue.customer, "xfail": self.dialogue.xfail, "status": self.status,
                "passed": self.passed, "warnings": self.warnings,
                "conversation_id": self.conversation_id, "turns": [t.to_dict() for t in self.turns]}


def run_dialogue(client: AssistantClient, dialogue: Dialogue) -> DialogueResult:
    """Replay one dialogue in a fresh conversation; after a failed request its later turns are skipped."""
    sender = new_sender()
    result = DialogueResult(dialogue, conversation_id=f"rest:{sender}")
    token, problem = None, None
    try:
        token = customer_token(dialogue.customer)
    except (ValueError, OSError) as exc:  # identity settings that cannot sign a demo token
        problem = f"not run: cannot issue a customer token for {dialogue.customer}: {exc}"
    for index, turn in enumerate(dialogue.turns, start=1):
        if problem is not None:
            result.turns.append(TurnResult(index, turn, error=problem, skipped=True))
            continue
        outcome = TurnResult(index, turn)
        try:
            outcome.replies = client.send(sender, turn.user, token)
            result.conversation_id = next((r["recipient_id"] for r in outcome.replies
                                           if isinstance(r.get("recipient_id"), str)), result.conversation_id)
            tracker = client.tracker(result.conversation_id)
        except ClientError as exc:
            outcome.error, problem = str(exc), f"not run: turn {index} failed"
            result.turns.append(outcome)
            continue
        outcome.observation = observe(outcome.replies, tracker)
        outcome.mismatches = check(outcome.observation, turn.expect)
        result.turns.append(outcome)
        if dialogue.customer and outcome.observation.customer != dialogue.customer and not result.warnings:
            result.warnings.append(
                f"turn {index}: the server did not log {dialogue.customer} in; it refused the customer "
                "token (is CUSTOMER_TOKEN_SECRET / ASSISTANT_SECRETS_DIR the server's?)")
    return result


# --- reporting -------------------------------------------------------------------------------------

def _short(text: str, limit: int = REPLY_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _value(key: str, value: Any) -> str:
    """says_* mismatches are already sentences; other values as JSON, so "6688" differs from 6688."""
    if key.startswith("says") and isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def format_turn(dialogue_id: str, turn: TurnResult, label: str = "FAIL") -> list[str]:
    """A failing (or, verbose, any) turn: what was said, each mismatch, the replies and the state."""
    lines = [f"  {label} {dialogue_id} turn {turn.index}: 「{turn.turn.user}」"]
    if turn.skipped:
        return lines + [f"    {turn.error}"]
    if turn.error:
        lines.append(f"    error: {turn.error}")
    for mismatch in turn.mismatches:
        lines.append(f"    {mismatch.key}: expected {_value(mismatch.key, mismatch.expected)}"
                     f" / actual {_value(mismatch.key, mismatch.actual)}")
    if turn.observation is not None:
        texts = turn.observation.texts or ["(no text reply)"]
        lines += [f"    bot: {_short(t)}" for t in texts]
        obs = turn.observation
        extra = f" faq_ids={obs.faq_ids}" if obs.faq_ids else ""
        lines.append(f"    now: flow={obs.flow or 'none'} asks={obs.asks or 'none'} handoff={obs.handoff}"
                     f" buttons={obs.buttons}{extra}")
    return lines


def format_dialogue(result: DialogueResult, verbose: bool = False) -> list[str]:
    status = result.status.upper()
    passed = sum(t.passed for t in result.turns)
    head = f"{status:5} {result.dialogue.id} ({passed}/{len(result.turns)} turns)"
    if result.dialogue.xfail:
        head += f" — xfail: {result.dialogue.xfail}"
    lines = [head] + [f"  warning: {w}" for w in result.warnings]
    if result.status == "fail" or verbose:
        for turn in result.turns:
            if not turn.passed or verbose:
                lines += format_turn(result.dialogue.id, turn, "ok" if turn.passed else "FAIL")
    return lines


@dataclass(frozen=True)
class Summary:
    dialogues: int
    dialogues_passed: int
    turns: int
    turns_passed: int
    failed: int
    xfail: int
    xpass: int

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def line(self) -> str:
        extras = [f"{self.xfail} xfail"] if self.xfail else []
        extras += [f"{self.xpass} xpass"] if self.xpass else []
        tail = f" ({', '.join(extras)})" if extras else ""
        return (f"dialogues {self.dialogues_passed}/{self.dialogues} passed, "
                f"turns {self.turns_passed}/{self.turns} passed{tail}")


def summarise(results: list[DialogueResult]) -> Summary:
    statuses = [r.status for r in results]
    return Summary(dialogues=len(results), dialogues_passed=sum(r.passed for r in results),
                   turns=sum(len(r.turns) for r in results),
                   turns_passed=sum(t.passed for r in results for t in r.turns),
                   failed=statuses.count("fail"), xfail=statuses.count("xfail"),
                   xpass=statuses.count("xpass"))


def write_json(path: Path, results: list[DialogueResult], summary: Summary) -> None:
    data = {"summary": dataclasses.asdict(summary), "dialogues": [r.to_dict() for r in results]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")


def run_all(client: AssistantClient, dialogues: list[Dialogue], out: TextIO,
            verbose: bool = False) -> list[DialogueResult]:
    """Replay every dialogue, printing each one's result as it finishes."""
    results = []
    for dialogue in dialogues:
        result = run_dialogue(client, dialogue)
        results.append(result)
        print("\n".join(format_dialogue(result, verbose)), file=out, flush=True)
    return results


# --- an assistant started for the run (--in-process) ----------------------------------------------

class StartError(RuntimeError):
    """The in-process assistant could not be started."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def environment(values: dict[str, str | None]) -> Iterator[None]:
    """os.environ with `values` set (None: unset) for the duration."""
    previous = {key: os.environ.get(key) for key in values}
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _log_tail(folder: Path, lines: int = 15) -> str:
    tails = []
    for log in sorted(folder.glob("*.log")):
        text = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        tails.append(f"--- {log.name} (last lines) ---\n" + "\n".join(text))
    return "\n".join(tails)


@contextmanager
def in_process_assistant(model: Path | None = None, keep: bool = False) -> Iterator[AssistantClient]:
    """Rasa + the action server on free ports with temp tracker, bank (seeded by the action server on
    first use), connector and secrets stores, configured like tests/channels.py::channel_stack."""
    from bot.serve import PortTaken, Servers
    from bot.settings import load_settings
    from bot.train import ensure_model

    work = Path(tempfile.mkdtemp(prefix="bot-conversations-"))
    env: dict[str, str | None] = {
        "CUSTOMER_TOKEN_SECRET": secrets.token_urlsafe(36), "CUSTOMER_TOKEN_ALGORITHM": "HS256",
        "ASSISTANT_SECRETS_DIR": str(work / "secrets"),
        "CONNECTOR_DB_URL": f"sqlite:///{work / 'connectors.db'}",
        "DESK_SERVICE_HOURS": "00:00-24:00", "DESK_MAX_WAIT_S": "600", "DESK_ROUTING": "accept",
        "REST_BEARER_TOKEN": "", "ACTION_ENDPOINT_URL": None, "DESK_URL": None}
    failed = False
    with environment(env):
        config = dataclasses.replace(load_settings(), rasa_port=free_port(), action_port=free_port(),
                                     tracker_db_path=work / "tracker.db", secrets_dir=work / "secrets",
                                     bank_db_url=f"sqlite:///{work / 'bank.db'}")
        try:
            servers = Servers(model=model or ensure_model(), settings=config, log_dir=work / "logs")
        except subprocess.CalledProcessError as exc:
            raise StartError(f"training the Rasa model failed ({exc}); run `make setup` to see why") from None
        try:
            try:
                servers.start()
            except (RuntimeError, PortTaken) as exc:
                failed = True
                raise StartError(f"the assistant did not start: {exc}\n{_log_tail(work / 'logs')}\n"
                                 f"(logs kept in {work / 'logs'})") from None
            yield AssistantClient(servers.rasa_url, config.rasa_api_token)
        finally:
            servers.stop()
            if not (keep or failed):
                shutil.rmtree(work, ignore_errors=True)
            elif keep:
                print(f"(in-process logs and databases kept in {work})")
