"""The mix: which conversations a run has and on which channel, the same for the same seed."""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Dict, List

from bot.demo_traffic.conversations import KINDS, SCRIPTS, WEIGHTS, Script

CHANNELS = ("rest", "webchat", "wechat")


@dataclass(frozen=True)
class Conversation:
    """One planned conversation: its place in the run (for its label and its seeded choices), its
    channel and what the customer says."""

    index: int
    channel: str
    script: Script

    @property
    def kind(self) -> str:
        return self.script.kind

    @property
    def label(self) -> str:
        """How progress lines and failures name it."""
        return f"#{self.index} {self.channel} {self.kind}"


def apportion(total: int, weights: Dict[str, int], rng: random.Random) -> List[str]:
    """`total` kinds in proportion to `weights` (largest remainder, ties at random): the same mix on
    every run, not a random draw whose handful of extra handoffs would skew a small demo."""
    whole = sum(weights.values())
    exact = {kind: total * weight / whole for kind, weight in weights.items()}
    counts = {kind: int(value) for kind, value in exact.items()}
    by_remainder = sorted(weights, key=lambda kind: (exact[kind] - counts[kind], rng.random()), reverse=True)
    for kind in by_remainder[:total - sum(counts.values())]:
        counts[kind] += 1
    return [kind for kind in weights for _ in range(counts[kind])]


def plan(count: int, seed: int) -> List[Conversation]:
    """`count` conversations: first every (kind, channel) pair once, the channels taking turns (so
    a small count is still spread evenly), then kinds in proportion to WEIGHTS, each on the channel
    used least so far. Same seed, same plan."""
    rng = random.Random(seed)
    kinds_of = {channel: rng.sample(KINDS, len(KINDS)) for channel in CHANNELS}
    pairs = [(kinds_of[channel][round_], channel) for round_ in range(len(KINDS)) for channel in CHANNELS]
    chosen = pairs[:count]
    used = Counter(channel for _, channel in chosen)
    extra = apportion(count - len(chosen), WEIGHTS, rng)
    rng.shuffle(extra)
    for kind in extra:
        channel = min(CHANNELS, key=lambda c: (used[c], rng.random()))
        used[channel] += 1
        chosen.append((kind, channel))
    rng.shuffle(chosen)
    return [Conversation(index, channel, rng.choice(SCRIPTS[kind]))
            for index, (kind, channel) in enumerate(chosen, start=1)]
