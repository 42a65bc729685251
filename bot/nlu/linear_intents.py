"""A second, linear reading of the intent, beside DIET's.

A logistic regression over character n-grams and the encoder's sentence
embedding, trained at ``rasa train`` on the same intent examples as DIET. It
serves twice:

* the whole message: its probabilities are combined with DIET's ranking. DIET's
  reading of a short message swings between two trainings on the same data (the
  TensorFlow run is not bit-reproducible); the linear model is deterministic and
  errs on different messages, so the combination is steadier and more often right;
* each part of a message that asks for several things (bot/nlu/message_parts.py):
  DIET reads one intent per message, this model reads every part on its own. The
  parse gets ``parts``: text, intent, confidence per part; the question/request
  model and the knowledge base fill in the rest;
* each clause of a one-ask message: a long-winded customer wraps the ask in
  courtesy ("你好，打扰一下，我有个事情想问问，办房贷要准备什么材料，谢谢啦"), and the
  whole message then reads as a greeting. Leading and trailing clauses the model
  reads as courtesy (a greeting, thanks, a leave-taking) are dropped; the rest is the
  ask (``ask`` in the parse). The question/request model and the knowledge base read
  the ask, and when the whole message read as conversational glue, the ask's reading
  becomes the message's intent. Only courtesy goes: context clauses ("I'm a US citizen
  working in Shenzhen, …") and short question clauses ("…, what should I do?") carry
  the topic or the question and read as glue too.
"""
from __future__ import annotations

import hashlib
import logging
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.flows import TASK_ENTRY
from bot.nlu.message_parts import ASK_KEY, PARTS_KEY, clauses, message_parts
from bot.nlu.text_model import NgramEmbeddingClassifier, TrainedTextModelComponent
from bot.settings import load_settings

log = logging.getLogger(__name__)

# What a customer wants done or wants to know (intents.yml kinds task and faq).
ASKING_INTENTS = frozenset({*TASK_ENTRY, "faq"})
# Clauses that only wrap an ask: greeting, thanks, leave-taking.
COURTESY_INTENTS = frozenset({"greet", "thank", "goodbye"})
FLOOR = 1e-4  # an intent outside DIET's top ranking, or one the linear model rules out, is unlikely, not impossible


class LinearIntentModel(NgramEmbeddingClassifier):
    """Intent probabilities from the form and the topic of the sentence."""

    def probabilities(self, texts: List[Text], vectors: np.ndarray) -> List[Dict[Text, float]]:
        rows = self.class_probabilities(texts, vectors)
        return [{str(name): float(p) for name, p in zip(self.classifier.classes_, row)} for row in rows]

    def predict(self, texts: List[Text], vectors: np.ndarray) -> List[tuple[Text, float]]:
        return [max(row.items(), key=lambda item: item[1]) for row in self.probabilities(texts, vectors)]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LinearIntentClassifier(TrainedTextModelComponent):
    MODEL_FILE = "linear_intents.pkl"
    MISSING = "DIET alone reads intents, a message is one ask"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # diet_weight: the share of DIET in the whole message's intent (an even average, not tuned)
        return {"random_seed": 42, "C": 8.0, "diet_weight": 0.5, "ranking_length": 10}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The encoder shapes the features, but the graph does not see it."""
        from knowledge_base.embedding import encoder_fingerprint

        encoder = encoder_fingerprint(load_settings().encoder_path) or ""
        return hashlib.sha256(encoder.encode("utf-8")).hexdigest()

    def train(self, training_data: TrainingData) -> Resource:
        examples = [(e.get(TEXT), e.get(INTENT)) for e in training_data.intent_examples if e.get(TEXT)]
        if len({intent for _, intent in examples}) < 2:
            log.warning("linear intents: need at least two intents to train; skipped")
            return self._resource
        texts, intents = [t for t, _ in examples], [i for _, i in examples]
        return self._fit_and_store(LinearIntentModel(self._config["random_seed"], self._config["C"]), texts, intents)

    def process(self, messages: List[Message]) -> List[Message]:
        if self._model is None:
            return messages
        for message in messages:
            text = message.get(TEXT) or ""
            if not text:
                continue
            parts = message_parts(text)
            several = len(parts) > 1
            framed = [] if several or text.startswith("/") else clauses(text)
            framed = framed if len(framed) > 1 else []
            texts = [text] + (parts if several else []) + framed
            readings = self._model.probabilities(texts, self._embed(texts))
            self._blend(message, readings[0])
            if several:
                message.set(PARTS_KEY, [_best_reading(part, row) for part, row in zip(parts, readings[1:])],
                            add_to_output=True)
            elif framed:
                self._read_ask(message, framed, readings[1:])
        return messages

    def _read_ask(self, message: Message, framed: List[Text], rows: List[Dict[Text, float]]) -> None:
        """The message without its leading and trailing courtesy clauses is its ask. When the whole
        message read as glue (a greeting, thanks, chitchat) and the ask reads as a task or a question,
        the ask's reading becomes the intent; a whole message read as a task or question keeps DIET's."""
        asking = [i for i, row in enumerate(rows) if _top(row)[0] not in COURTESY_INTENTS]
        if not asking or asking[-1] - asking[0] + 1 == len(framed):
            return
        ask = "，".join(framed[asking[0]:asking[-1] + 1])
        message.set(ASK_KEY, ask, add_to_output=True)
        if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) in ASKING_INTENTS:
            return
        reading = self._model.probabilities([ask], self._embed([ask]))[0]
        if _top(reading)[0] in ASKING_INTENTS:
            self._set_ranking(message, reading)

    def _blend(self, message: Message, linear: Dict[Text, float]) -> None:
        """DIET's ranking and the linear model's probabilities, combined as a weighted geometric mean and
        renormalised (a product of experts): where both agree the reading stays as sure as DIET's, so the
        dialogue's thresholds keep their meaning; where they disagree it is unsure. A payload stays as it is."""
        diet = {r[INTENT_NAME_KEY]: r[PREDICTED_CONFIDENCE_KEY] for r in message.get(INTENT_RANKING_KEY) or []}
        if not diet or (message.get(TEXT) or "").startswith("/"):
            return
        w = self._config["diet_weight"]
        blended = {name: max(diet.get(name, 0.0), FLOOR) ** w * max(linear.get(name, 0.0), FLOOR) ** (1 - w)
                   for name in {*diet, *linear}}
        self._set_ranking(message, blended, total=sum(blended.values()))

    def _set_ranking(self, message: Message, scores: Dict[Text, float], total: float = 1.0) -> None:
        """The message's intent and ranking (the top ``ranking_length``) from scores summing to ``total``."""
        ranking = sorted(scores.items(), key=lambda item: -item[1])[:self._config["ranking_length"]]
        ranked = [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: round(p / total, 6)} for name, p in ranking]
        message.set(INTENT, ranked[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranked, add_to_output=True)


def _top(row: Dict[Text, float]) -> tuple[Text, float]:
    return max(row.items(), key=lambda item: item[1])


def _best_reading(text: Text, row: Dict[Text, float]) -> Dict[Text, Any]:
    intent, confidence = _top(row)
    return {"text": text, "intent": intent, "confidence": round(confidence, 4)}
