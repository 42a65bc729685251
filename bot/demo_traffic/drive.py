"""Running the conversations: each customer follows its script, the desk takes the handoffs, and
whatever goes wrong ends that conversation only (recorded in its Outcome)."""
from __future__ import annotations

import random
import secrets
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

from bot.demo_traffic.conversations import AskHuman, Pick, Rate, Say, Step
from bot.demo_traffic.customers import Customer, RestCustomer, WebchatCustomer
from bot.demo_traffic.desk import Desk
from bot.demo_traffic.errors import DemoError
from bot.demo_traffic.mix import Conversation
from bot.demo_traffic.replies import Option, Reply, choose, score_option
from bot.demo_traffic.wechat import WeChatAccount, WeChatCustomer


@dataclass
class Outcome:
    """What one conversation did, for the printed summary; `failure` says where it went wrong."""

    conversation: Conversation
    messages: int = 0
    picked: int = 0
    handoffs: int = 0
    csat: int = 0
    bot_csat: int = 0
    notes: List[str] = field(default_factory=list)
    failure: Optional[str] = None


@dataclass
class Context:
    """What every conversation shares: the server, the throwaway WeChat account, the desk."""

    base_url: str
    account: WeChatAccount
    api: Any
    desk: Desk
    seed: int
    think_s: float
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))

    def pause(self, rng: random.Random) -> None:
        """A customer reads and types: 0.5–1.5 × think_s between messages."""
        time.sleep(rng.uniform(0.5, 1.5) * self.think_s)

    def open_customer(self, conversation: Conversation) -> Tuple[Customer, int]:
        """The channel's client, logged in as the script's customer; (client, messages it took)."""
        from bot.identity import issue_token

        token = issue_token(conversation.script.customer) if conversation.script.customer else None
        if conversation.channel == "rest":
            return RestCustomer(self.base_url, f"demo-{self.run_id}-{conversation.index}", token), 0
        if conversation.channel == "webchat":
            return WebchatCustomer(self.base_url, token), 0
        customer = WeChatCustomer(self.base_url, self.account, self.api)
        if token:
            customer.bind(token)
            return customer, 1
        return customer, 0


def _queued_handoff(ctx: Context, customer: Customer, text: str, outcome: Outcome) -> Optional[int]:
    """Says `text` and finds the handoff it queued; under the desk's lock, so that no other
    conversation's request is taken for this one's."""
    with ctx.desk.lock:
        before = {h["id"] for h in ctx.desk.waiting()}
        customer.say(text)
        outcome.messages += 1
        return ctx.desk.new_handoff(before, customer.channel)


def ask_human(ctx: Context, customer: Customer, step: AskHuman, rng: random.Random, outcome: Outcome) -> None:
    """The customer asks for a person; the desk takes the request it finds in the queue."""
    handoff_id = _queued_handoff(ctx, customer, step.text, outcome)
    if handoff_id is None:
        outcome.notes.append("no handoff queued (the bot answered or left a callback ticket)")
        return
    time.sleep(rng.uniform(2.0, 6.0))  # the time in the queue
    ctx.desk.accept(handoff_id)
    ctx.desk.say(handoff_id, step.greeting)
    ctx.pause(rng)
    customer.say(step.detail, expect_reply=False)  # the bot is paused: the agent reads it
    outcome.messages += 1
    ctx.pause(rng)
    ctx.desk.say(handoff_id, step.answer)
    ctx.desk.close(handoff_id, step.disposition)
    outcome.handoffs += 1
    if customer.hears_desk:
        ctx.pause(rng)
        customer.say(str(step.score))  # the answer to the CSAT question
        outcome.messages += 1
        outcome.csat += 1


def run_conversation(ctx: Context, conversation: Conversation) -> Outcome:
    """One customer's conversation; any error ends it and is recorded, never raised."""
    rng = random.Random(f"{ctx.seed}:{conversation.index}")
    outcome = Outcome(conversation)
    customer: Optional[Customer] = None
    doing = "connecting"
    try:
        customer, setup_messages = ctx.open_customer(conversation)
        outcome.messages += setup_messages
        for doing in follow_script(ctx, customer, conversation.script.steps, rng, outcome):
            pass  # each step runs as the next one is asked for; `doing` names the one under way
        doing = "closing"
    except DemoError as exc:
        outcome.failure = f"{doing}: {exc}"
    except Exception as exc:  # noqa: BLE001 - one conversation's bug must not stop the others
        outcome.failure = f"{doing}: {type(exc).__name__}: {exc}"
    finally:
        if customer is not None:
            _close(customer, outcome)
    return outcome


def follow_script(ctx: Context, customer: Customer, steps: Sequence[Step], rng: random.Random,
                  outcome: Outcome) -> Iterator[str]:
    """Takes the steps one by one, yielding what each is about to do before doing it, so a failure
    can say where it happened. A Pick or Rate the last reply offered nothing for is skipped and noted."""
    last = Reply()
    for number, step in enumerate(steps, start=1):
        ctx.pause(rng)
        if isinstance(step, Say):
            yield f"message {number} {step.text!r}"
            last = customer.say(step.text)
            outcome.messages += 1
        elif isinstance(step, (Pick, Rate)):
            option, missing, counter = _option_for(step, last, rng)
            if option is None:
                outcome.notes.append(f"step {number}: {missing}")
                continue
            yield f"message {number} (chose {option.title!r})"
            last = customer.say(option.send)
            outcome.messages += 1
            setattr(outcome, counter, getattr(outcome, counter) + 1)
        else:
            yield f"message {number} {step.text!r} and the desk"
            ask_human(ctx, customer, step, rng, outcome)


def _option_for(step: Pick | Rate, last: Reply, rng: random.Random) -> Tuple[Optional[Option], str, str]:
    """The option a Pick or Rate step sends, what to note when there is none, and the Outcome counter."""
    if isinstance(step, Pick):
        return choose(last.options, step.prefer, rng), "no menu offered", "picked"
    return score_option(last.options, step.score), "no satisfaction question asked", "bot_csat"


def _close(customer: Customer, outcome: Outcome) -> None:
    """Ends the connection; a failure there is reported unless an earlier one already was."""
    try:
        outcome.messages += customer.close()
    except Exception as exc:  # noqa: BLE001 - reported with the conversation
        outcome.failure = outcome.failure or f"closing: {exc}"


def drive(ctx: Context, conversations: Sequence[Conversation], concurrency: int,
          progress: Callable[[str], None] = print) -> List[Outcome]:
    """All conversations, `concurrency` at a time; a progress line as each ends."""
    outcomes: List[Outcome] = []
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="customer") as pool:
        futures = [pool.submit(run_conversation, ctx, c) for c in conversations]
        try:
            for future in as_completed(futures):
                outcome = future.result()
                outcomes.append(outcome)
                status = f"FAILED {outcome.failure}" if outcome.failure else f"{outcome.messages} messages"
                progress(f"  [{len(outcomes)}/{len(conversations)}] {outcome.conversation.label}: {status}")
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return sorted(outcomes, key=lambda o: o.conversation.index)
