"""First NLU step: the text every later component sees is normalised.

Traditional characters become simplified (OpenCC), full-width forms
half-width, control characters go and banking emoji become words — the same
``knowledge_base.text.normalize`` the knowledge base uses, so NLU and
retrieval agree. Registered as a featurizer only so that Rasa runs it on the
training data too (in pipeline order, before the tokenizer).
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from knowledge_base.text import normalize

ORIGINAL_TEXT = "original_text"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class TextNormalizer(GraphComponent):
    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "TextNormalizer":
        return cls()

    @staticmethod
    def _rewrite(message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or not text:
            return
        normal = normalize(text)
        if normal == text or not normal:
            return
        if message.get(ENTITIES) and len(normal) != len(text):
            return  # annotated spans would no longer line up
        message.set(ORIGINAL_TEXT, text, add_to_output=True)
        message.set(TEXT, normal)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._rewrite(example)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._rewrite(message)
        return messages
