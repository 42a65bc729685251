"""The cross-validation split and the noise kinds: the parts of the measures that decide what is measured."""
from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from intents.crossval import folds, summarise
from intents.noise import no_punctuation, noise_kinds, noisy


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=5, max_size=60), st.integers(2, 5))
def test_every_example_is_held_out_exactly_once(intents, k):
    held_out = folds(intents, k, seed=1)
    assert len(held_out) == k
    assert sorted(i for fold in held_out for i in fold) == list(range(len(intents)))


def test_folds_are_stratified_and_seeded():
    intents = ["a"] * 50 + ["b"] * 10
    held_out = folds(intents, 5, seed=3)
    assert [sum(intents[i] == "b" for i in fold) for fold in held_out] == [2, 2, 2, 2, 2]
    assert folds(intents, 5, seed=3) == held_out
    assert folds(intents, 5, seed=4) != held_out


def test_summary_is_mean_and_spread_over_folds():
    per_fold = [{"clean": {"macro_f1": 0.8, "accuracy": 0.9}}, {"clean": {"macro_f1": 1.0, "accuracy": 0.7}}]
    assert summarise(per_fold)["clean"] == {"macro_f1": 0.9, "macro_f1_sd": 0.1, "accuracy": 0.8,
                                            "accuracy_sd": 0.1}


def test_no_punctuation_drops_chinese_gaps_but_keeps_english_words_apart():
    rng = random.Random(0)
    assert no_punctuation("下周去网点开户， 要带什么？", rng) == "下周去网点开户要带什么"
    assert no_punctuation("What ID should I bring, to open an account?", rng) == \
        "What ID should I bring to open an account"
    assert no_punctuation("我的 debit card 丢了！", rng) == "我的debit card丢了"


def test_noise_is_deterministic_and_changes_chinese_text():
    # homophones come from the pool itself: 是/事/市 and 期/其/起 give each other candidates
    texts = ["我的信用卡账单怎么还款？是不是到期了", "转账手续费是多少，这事急", "附近网点几点开门？其他城市呢，起码要多久"]
    for name, kind in noise_kinds(texts).items():
        first, again = noisy(texts, kind, seed=7), noisy(texts, kind, seed=7)
        assert first == again, name
        assert any(n != t for n, t in zip(first, texts)), name
