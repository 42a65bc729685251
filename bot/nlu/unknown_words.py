"""Turns keyboard mashing into nlu_fallback before the intent classifier's guess is trusted.

DIET always picks some intent, often with high confidence, even for "asdfgh" or
"zxcv bnm": nothing in such a message was ever seen in training. When a message is
only Latin letters and none of its words occurs in the training data (which includes
pinyin abbreviations such as yhk, gs, lc), the intent becomes nlu_fallback so the
fallback ladder (knowledge base → rephrase → human) takes over. Anything with Chinese,
digits, or one known word is left to DIET.
"""
from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Set, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

FALLBACK_INTENT = "nlu_fallback"
LATIN_ONLY = re.compile(r"[A-Za-z\s'’,.!?~-]+")
WORD = re.compile(r"[a-z]+")
VOCABULARY_FILE = "vocabulary.json"


def latin_words(text: str) -> Optional[List[str]]:
    """The lower-cased words of a Latin-letters-only text, or None if it has anything else."""
    if not text or not LATIN_ONLY.fullmatch(text):
        return None
    return WORD.findall(text.lower())


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UnknownWordsGuard(GraphComponent):
    @classmethod
    def required_components(cls) -> List[type]:
        return [Tokenizer]

    def __init__(self, model_storage: ModelStorage, resource: Resource, vocabulary: Set[str]) -> None:
        self._storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "UnknownWordsGuard":
        return cls(model_storage, resource, set())

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "UnknownWordsGuard":
        with model_storage.read_from(resource) as directory:
            vocabulary = set(json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8")))
        return cls(model_storage, resource, vocabulary)

    def train(self, training_data: TrainingData) -> Resource:
        vocabulary: Set[str] = set()
        for example in training_data.training_examples:
            vocabulary.update(WORD.findall(str(example.get(TEXT) or "").lower()))
        self.vocabulary = vocabulary
        with self._storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps(sorted(vocabulary)), encoding="utf-8")
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def is_gibberish(self, text: str) -> bool:
        words = latin_words(text)
        return bool(words) and not any(word in self.vocabulary for word in words)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and not text.startswith("/") and self.is_gibberish(text.strip()):
                guess = message.get(INTENT) or {}
                message.set(INTENT, {INTENT_NAME_KEY: FALLBACK_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0},
                            add_to_output=True)
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or []
                           if r.get(INTENT_NAME_KEY) != FALLBACK_INTENT]
                message.set(INTENT_RANKING_KEY, [{INTENT_NAME_KEY: FALLBACK_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0},
                                                 *ranking], add_to_output=True)
                message.set("unknown_words_guard", {"replaced": guess.get(INTENT_NAME_KEY)}, add_to_output=True)
        return messages

