"""The NLU's small text model computes the same probabilities as scikit-learn, without stacking features."""
from __future__ import annotations

import numpy as np
import pytest

from bot.nlu.text_model import NgramEmbeddingClassifier

TEXTS = ["帮我转账", "转账手续费多少", "我要挂失", "挂失要钱吗", "查余额", "余额怎么查", "你好", "您好呀",
         "帮我查一下余额", "信用卡年费多少", "帮我办信用卡", "年费能免吗"]


@pytest.mark.parametrize("labels", [
    [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1],  # question form: request or question
    ["transfer", "transfer", "lost", "lost", "balance", "balance", "greet", "greet", "balance", "card", "card",
     "card"],  # intents
])
def test_probabilities_equal_scikit_learns_on_the_stacked_features(labels):
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(len(TEXTS), 16)).astype(np.float32)
    model = NgramEmbeddingClassifier().fit(TEXTS, vectors, labels)
    unseen = ["转账要手续费吗", "帮我挂失信用卡", "年费"]
    unseen_vectors = rng.normal(size=(3, 16)).astype(np.float32)
    ours = model.class_probabilities(unseen, unseen_vectors)
    sklearns = model.classifier.predict_proba(model._features(unseen, unseen_vectors))
    assert ours.shape == (3, len(set(labels)))
    np.testing.assert_allclose(ours, sklearns, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours.sum(axis=1), 1.0)


def test_a_text_with_no_known_ngram_gets_the_same_probabilities_too():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(len(TEXTS), 8)).astype(np.float32)
    model = NgramEmbeddingClassifier().fit(TEXTS, vectors, [i % 3 for i in range(len(TEXTS))])
    unseen, unseen_vectors = ["", "zzqx", "帮我转账 帮我转账 帮我转账"], rng.normal(size=(3, 8)).astype(np.float32)
    np.testing.assert_allclose(model.class_probabilities(unseen, unseen_vectors),
                               model.classifier.predict_proba(model._features(unseen, unseen_vectors)), rtol=1e-6)


def test_the_model_pickles_without_its_rebuilt_analyzer():
    import pickle

    vectors = np.ones((len(TEXTS), 4), dtype=np.float32)
    model = NgramEmbeddingClassifier().fit(TEXTS, vectors, [i % 2 for i in range(len(TEXTS))])
    expected = model.class_probabilities(["转账"], vectors[:1])  # builds the analyzer
    restored = pickle.loads(pickle.dumps(model))
    assert "_analyze" not in restored.__dict__
    np.testing.assert_allclose(restored.class_probabilities(["转账"], vectors[:1]), expected)
