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
