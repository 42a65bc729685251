"""NLU component that tells an information-seeking question from a request to do something.

"房贷能贷30年吗" and "我要申请房贷" share a topic and often an intent; the first
wants the knowledge answer, the second the loan flow. The component learns the
difference from the project's own data, never from keyword lists:

* questions: every knowledge-base phrasing (question, paraphrases, English
  question) and the training examples of the ``faq`` intent;
* requests: the training examples of every task intent (bot.flows.TASK_ENTRY).

Features are the message's sentence embedding (the base e5 encoder, as the
featurizer uses; cross-validated accuracy 0.968 with it, 0.963 with the
retrieval-tuned one) and
character n-grams of the normalised text (the form of the sentence: "能…吗",
"帮我…", "how long"). A logistic regression gives ``question.probability`` in
the parse output; the dialogue (bot/dialogue/turn.py) combines it with the
intent ranking and the knowledge base's own assessment. The knowledge-base
phrasings and the encoder enter the component's fingerprint, so editing them
retrains this component.
"""
from __future__ import annotations

import hashlib
import logging
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.message_parts import PARTS_KEY, text_to_read
from bot.nlu.text_model import NgramEmbeddingClassifier, TrainedTextModelComponent
from bot.settings import load_settings

log = logging.getLogger(__name__)

QUESTION_KEY = "question"
QUESTION_INTENT = "faq"


def knowledge_phrasings() -> List[Text]:
    """Every phrasing of every knowledge-base entry, normalised as NLU normalises messages."""
    from knowledge_base.content import load_content
    from knowledge_base.text import normalize

    content = load_content(load_settings().kb.content_dir)
    return [normalize(t) for entry in content.entries for t in entry.index_texts()]


class QuestionFormModel(NgramEmbeddingClassifier):
    """P(information-seeking question) from the form and the topic of the sentence."""

    def probability(self, texts: List[Text], vectors: np.ndarray) -> np.ndarray:
        return self.class_probabilities(texts, vectors)[:, 1]


def labelled_examples(training_data: TrainingData) -> tuple[List[Text], List[bool]]:
    from bot.flows import TASK_ENTRY

    texts, labels = [], []
    for example in training_data.intent_examples:
        intent = example.get(INTENT)
        if intent == QUESTION_INTENT or intent in TASK_ENTRY:
            texts.append(example.get(TEXT))
            labels.append(intent == QUESTION_INTENT)
    phrasings = knowledge_phrasings()
    return texts + phrasings, labels + [True] * len(phrasings)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class QuestionOrRequestClassifier(TrainedTextModelComponent):
    MODEL_FILE = "question_form.pkl"
    MISSING = "every message is left to the intent"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"random_seed": 42, "C": 4.0}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The knowledge-base phrasings and the encoder shape this model, but the graph does not see them."""
        from knowledge_base.embedding import encoder_fingerprint

        encoder = encoder_fingerprint(load_settings().encoder_path) or ""
        return hashlib.sha256("\n".join([encoder, *knowledge_phrasings()]).encode("utf-8")).hexdigest()

    def train(self, training_data: TrainingData) -> Resource:
        texts, labels = labelled_examples(training_data)
        if len(set(labels)) < 2:
            log.warning("question/request: need both questions and task requests to train; skipped")
            return self._resource
        return self._fit_and_store(QuestionFormModel(self._config["random_seed"], self._config["C"]), texts,
                                   [int(label) for label in labels])

    def process(self, messages: List[Message]) -> List[Message]:
        todo = [m for m in messages if m.get(TEXT)]
        if self._model is None or not todo:
            return messages
        texts = [text_to_read(m) for m in todo]
        for message, p in zip(todo, self._model.probability(texts, self._embed(texts))):
            message.set(QUESTION_KEY, {"probability": round(float(p), 4)}, add_to_output=True)
            self._read_parts(message.get(PARTS_KEY) or [])
        return messages

    def _read_parts(self, parts: List[Dict[Text, Any]]) -> None:
        """Each part of a several-asks message (bot/nlu/message_parts.py) gets its own probability."""
        if not parts:
            return
        texts = [part["text"] for part in parts]
        for part, p in zip(parts, self._model.probability(texts, self._embed(texts))):
            part[QUESTION_KEY] = round(float(p), 4)
