"""What the small learned NLU components share: a model over character n-grams and the sentence
embedding, trained at ``rasa train`` and kept as a pickle in Rasa's model storage.

The question/request model (question_form.py) and the linear intent model (linear_intents.py) are
both logistic regressions on these features; the form of a sentence ("能…吗", "帮我…") lives in
its characters, its topic in the embedding.
"""
from __future__ import annotations

import logging
import pickle
from collections import Counter
from typing import Any, ClassVar, Dict, List, Optional, Sequence, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.sentence_embeddings import embed_for_features
from bot.settings import load_settings

log = logging.getLogger(__name__)


class NgramEmbeddingClassifier:
    """Character n-grams + sentence embedding -> a balanced logistic regression."""

    def __init__(self, seed: int = 42, c: float = 4.0) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.ngrams = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
        self.classifier = LogisticRegression(C=c, class_weight="balanced", max_iter=3000, random_state=seed)

    def _features(self, texts: List[Text], vectors: np.ndarray, fit: bool = False):
        from scipy.sparse import csr_matrix, hstack

        grams = self.ngrams.fit_transform(texts) if fit else self.ngrams.transform(texts)
        return hstack([grams, csr_matrix(vectors)]).tocsr()

    def fit(self, texts: List[Text], vectors: np.ndarray, labels: Sequence[Any]) -> "NgramEmbeddingClassifier":
        self.classifier.fit(self._features(texts, vectors, fit=True), np.array(labels))
        return self

    def class_probabilities(self, texts: List[Text], vectors: np.ndarray) -> np.ndarray:
        """One row per text, one column per class of ``self.classifier.classes_``: what ``predict_proba``
        gives on the stacked features, computed on the two parts apart. Stacking one message's sparse
        n-grams with its dense embedding (scipy's hstack) and sklearn's checks cost more than the model
        (~0.37 ms a message, now ~0.1 ms); this runs for every message (question form and intents) on
        the server's busiest thread."""
        from scipy.special import expit, softmax

        coef, split = self.classifier.coef_, len(self.ngrams.vocabulary_)
        scores = (self._ngram_scores(texts, coef[:, :split]) + np.asarray(vectors, dtype=np.float64) @ coef[:, split:].T
                  + self.classifier.intercept_)
        if len(self.classifier.classes_) == 2:  # one-vs-rest on one column, as LogisticRegression does
            positive = expit(scores[:, 0])
            return np.column_stack([1 - positive, positive])
        return softmax(scores, axis=1)  # multinomial, LogisticRegression's default for lbfgs

    def _ngram_scores(self, texts: List[Text], coef: np.ndarray) -> np.ndarray:
        """Each text's tf-idf row (sublinear tf, l2 norm: the vectorizer's settings) times ``coef``'s
        columns, gathered for the n-grams the text has: what ``transform`` and a product give, in a
        tenth of the time for a short message (sklearn builds and checks a sparse matrix per call)."""
        vectorizer = self.ngrams
        if not (vectorizer.sublinear_tf and vectorizer.use_idf and vectorizer.norm == "l2"):
            return np.asarray(vectorizer.transform(texts) @ coef.T)
        analyze = self.__dict__.get("_analyze") or self.__dict__.setdefault("_analyze", vectorizer.build_analyzer())
        vocabulary, idf = vectorizer.vocabulary_, vectorizer.idf_
        rows = np.zeros((len(texts), coef.shape[0]))
        for row, text in enumerate(texts):
            counts = Counter(column for column in map(vocabulary.get, analyze(text)) if column is not None)
            if not counts:
                continue
            columns = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            weights = (np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts))) + 1) * idf[columns]
            rows[row] = coef[:, columns] @ (weights / np.sqrt(weights @ weights))
        return rows

    def __getstate__(self) -> Dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_analyze"}  # rebuilt on first use


class TrainedTextModelComponent(GraphComponent):
    """A GraphComponent whose model is fitted on the training data and pickled into the model storage."""

    MODEL_FILE: ClassVar[str]
    MISSING: ClassVar[str]  # what the bot does without the model (logged when it is missing)

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 model: Optional[NgramEmbeddingClassifier] = None) -> None:
        self._config = config
        self._kb = load_settings().kb  # encoder folder and query prefix, read once
        self._storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "TrainedTextModelComponent":
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "TrainedTextModelComponent":
        try:
            with model_storage.read_from(resource) as directory:
                model = pickle.loads((directory / cls.MODEL_FILE).read_bytes())  # our own training artefact
        except (ValueError, FileNotFoundError):
            log.warning("%s: model missing; %s", cls.__name__, cls.MISSING)
            model = None
        return cls(config, model_storage, resource, model)

    def _embed(self, texts: List[Text]) -> np.ndarray:
        return embed_for_features(self._kb, texts)

    def _fit_and_store(self, model: NgramEmbeddingClassifier, texts: List[Text], labels: Sequence[Any]) -> Resource:
        self._model = model.fit(texts, self._embed(texts), labels)
        with self._storage.write_to(self._resource) as directory:
            (directory / self.MODEL_FILE).write_bytes(pickle.dumps(self._model))
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
