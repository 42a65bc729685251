import numpy as np

from knowledge_base import scoring
from knowledge_base.calibrate import MAX_NEGATIVE_ANSWER_RATE, MAX_NEGATIVE_CLARIFY_RATE, choose_thresholds
from knowledge_base.retriever import EntryScores


def test_bm25_squash_is_bounded_and_monotonic():
    values = scoring.squash_bm25(np.array([-1.0, 0.0, 2.0, 20.0]), half=2.0)
    assert values.tolist() == [0.0, 0.0, 0.5, 20 / 22]


def test_modes_weight_the_two_signals():
    config = scoring.RetrievalConfig(dense_weight=0.8, bm25_half=1.0)
    dense, bm25 = np.array([0.9, 0.5]), np.array([0.0, 3.0])
    assert scoring.fuse(dense, bm25, "dense", config).tolist() == dense.tolist()
    assert scoring.fuse(dense, bm25, "bm25", config).tolist() == [0.0, 0.75]
    assert np.allclose(scoring.fuse(dense, bm25, "hybrid", config), [0.72, 0.4 + 0.15])


def test_features_describe_the_top_of_the_ranking():
    scores = EntryScores(dense=np.array([0.9, 0.8]), bm25=np.array([4.0, 0.0]), negative=0.85)
    fused = scoring.fuse(scores.dense, scores.bm25, "hybrid", scoring.RetrievalConfig())
    features = scoring.ranking_features(fused, scores, 6.0)
    assert len(features) == len(scoring.FEATURES)
    assert features[4] == 1.0 and np.isclose(features[6], 0.9 - 0.85)


def test_decisions_follow_the_two_thresholds():
    calibration = scoring.ModeCalibration(coef=(1.0,), intercept=0.0, answer_threshold=0.8, clarify_threshold=0.5)
    assert [calibration.decide(p) for p in (0.9, 0.6, 0.2)] == [scoring.ANSWER, scoring.CLARIFY, scoring.NO_ANSWER]
    assert np.isclose(calibration.confidence(np.array([0.0])), 0.5)


def test_thresholds_keep_false_answers_under_the_limit():
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(0.6, 1.0, 500), rng.uniform(0.0, 0.7, 500)])
    correct = np.arange(1000) < 500
    negative = ~correct
    answer, clarify = choose_thresholds(p, correct, negative)
    assert (p[negative] >= answer).mean() <= MAX_NEGATIVE_ANSWER_RATE
    assert clarify <= answer and (p[negative] >= clarify).mean() <= MAX_NEGATIVE_CLARIFY_RATE


def test_the_committed_config_is_calibrated_for_every_mode():
    config = scoring.load_config()
    assert set(config.calibration) == set(scoring.MODES)
    for calibration in config.calibration.values():
        assert len(calibration.coef) == len(scoring.FEATURES)
        assert 0 < calibration.clarify_threshold <= calibration.answer_threshold < 1
