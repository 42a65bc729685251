"""What every channel shares: flood limits, one-conversation tokens, namespaced sealed messages."""
import time

import pytest
from sqlalchemy import create_engine

from bot.identity import IDENTITY_METADATA_KEY, VerifiedCustomer, customer_from_user_event
from connectors.limits import TokenBuckets
from connectors.messages import customer_message, namespaced
from connectors.token_uses import TokenUses


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_buckets_allow_a_burst_then_refill_at_the_rate():
    clock = Clock()
    buckets = TokenBuckets(per_minute=60, burst=3, clock=clock)
    assert [buckets.allow("a") for _ in range(4)] == [True, True, True, False]
    assert buckets.allow("b")  # another key has its own bucket
    clock.now += 1.0  # one token per second
    assert buckets.allow("a") and not buckets.allow("a")


def test_buckets_forget_the_least_recently_seen_keys_first():
    buckets = TokenBuckets(per_minute=1, burst=1, max_keys=100)
    for number in range(1_000):
        buckets.allow(f"flood-{number}")
    assert len(buckets) == 100


@pytest.fixture()
def uses(tmp_path):
    return TokenUses(create_engine(f"sqlite:///{tmp_path / 'c.db'}", future=True), purge_every_s=0)


def test_a_token_serves_the_first_conversation_it_opens_only(uses):
    token = VerifiedCustomer("C001", int(time.time()) + 600, "jti-1")
    assert uses.claim(token, "rest:a") and uses.claim(token, "rest:a")
    assert not uses.claim(token, "rest:b") and not uses.claim(token, "webchat:a")


def test_expired_claims_are_forgotten(uses):
    old = VerifiedCustomer("C001", int(time.time()) - 1, "jti-old")
    assert uses.claim(old, "rest:a")
    uses.claim(VerifiedCustomer("C002", int(time.time()) + 600, "jti-2"), "rest:z")  # purges
    assert uses.claim(old, "rest:b")  # (an expired token never gets this far: verification refuses it)


def test_expired_claims_are_purged_at_most_once_a_minute(tmp_path):
    uses = TokenUses(create_engine(f"sqlite:///{tmp_path / 'c.db'}", future=True))
    old = VerifiedCustomer("C001", int(time.time()) - 1, "jti-old")
    assert uses.claim(old, "rest:a")  # the first claim purges (nothing yet), the next minute's do not
    uses.claim(VerifiedCustomer("C002", int(time.time()) + 600, "jti-2"), "rest:z")
    assert not uses.claim(old, "rest:b")


def test_messages_are_namespaced_sealed_and_stripped(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_SECRETS_DIR", str(tmp_path))
    assert namespaced("rest", "abc") == "rest:abc" and namespaced("rest", "rest:abc") == "rest:abc"
    assert namespaced("rest", "webchat:abc") == "rest:webchat:abc"
    message = customer_message("查余额", None, "rest", "abc", "C001",
                               metadata={IDENTITY_METADATA_KEY: {"customer_id": "C999"}, "customer_token": "t",
                                         "locale": "zh"})
    assert message.sender_id == "rest:abc" and message.input_channel == "rest"
    assert "customer_token" not in message.metadata and message.metadata["locale"] == "zh"
    event = {"event": "user", "message_id": message.message_id, "metadata": message.metadata}
    assert customer_from_user_event("rest:abc", event) == "C001"
    anonymous = customer_message("查余额", None, "rest", "abc", None,
                                 metadata={IDENTITY_METADATA_KEY: {"customer_id": "C999"}})
    assert IDENTITY_METADATA_KEY not in anonymous.metadata
