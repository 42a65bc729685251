"""The documents' answer model is calibrated on questions and negatives it did not see, "negative" included."""
from __future__ import annotations

import numpy as np

from knowledge_base.doc_answer import FEATURES, NEGATIVE
from knowledge_base.doc_calibrate import Samples, fold_masked, fold_of, out_of_fold


def _samples() -> Samples:
    # two questions (own -1) and two negatives (own 0 and 1); similarity to each of the two negatives
    similarity = np.array([[0.3, 0.4], [0.5, 0.2], [1.0, 0.7], [0.6, 1.0]])
    return Samples(x=np.zeros((4, len(FEATURES))), right=np.array([True, True, False, False]),
                   kinds=np.array(["answerable", "answerable", "negative", "negative"]),
                   similarity=similarity, own=np.array([-1, -1, 0, 1]))


def test_a_negative_never_finds_itself_or_a_negative_of_its_own_fold():
    data = _samples()
    separate = fold_masked(data, np.array([0, 1, 0, 1]))
    assert separate[:, NEGATIVE].tolist() == [0.4, 0.5, 0.7, 0.6]
    together = fold_masked(data, np.array([0, 1, 1, 1]))  # both negatives in fold 1: nothing left to find
    assert together[2:, NEGATIVE].tolist() == [0.0, 0.0]
    assert together[0, NEGATIVE] == 0.4  # a question of fold 0 sees both
    assert data.x[:, NEGATIVE].tolist() == [0.0] * 4  # the samples themselves are left as they were


def test_folds_are_stratified_and_every_prediction_comes_from_a_model_that_did_not_see_it():
    rng = np.random.default_rng(0)
    y = np.array([True] * 30 + [False] * 70)
    x = np.column_stack([y + rng.normal(0, 0.5, 100), rng.normal(0, 1, 100)])
    folds = fold_of(y)
    assert sorted(np.bincount(folds).tolist()) == [20] * 5
    assert all(y[folds == f].sum() == 6 for f in range(5))
    p = out_of_fold(x, y, folds)
    assert p[y].mean() > 0.5 > p[~y].mean()
    flipped = y.copy()
    flipped[0] = not y[0]  # a sample's own label never reaches the model that predicts it
    assert out_of_fold(x, flipped, folds)[0] == p[0]
    assert out_of_fold(x, flipped, folds)[folds != folds[0]].tolist() != p[folds != folds[0]].tolist()

