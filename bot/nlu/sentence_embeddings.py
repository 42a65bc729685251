"""NLU featurizer that adds the project encoder's sentence embedding to every message.

Rasa 3.6's LanguageModelFeaturizer is TensorFlow-only, so the multilingual e5
encoder enters the pipeline here. It uses the encoder fine-tuned for retrieval
(``KB_ENCODER_PATH``), so one encoder pass per message serves intents, the
question/request and message-part models and the knowledge-base lookup (they share
the vectors through the query-embedding cache). On our held-out messages the whole
pipeline read as well or better with it than with the base encoder
(docs/understanding.md), and a parse saves a forward pass.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.settings import load_settings
from knowledge_base.config import KBConfig


def embed_for_features(kb: KBConfig, texts: List[Text], batch_size: int = 64) -> np.ndarray:
    """Query vectors from the retrieval encoder, cached per process (the other NLU readers reuse them)."""
    from knowledge_base.embedding import embed_queries_cached, load_query_encoder

    return embed_queries_cached(load_query_encoder(kb.encoder_path, kb.query_runtime), texts,
                                batch_size=batch_size,
                                prefix=kb.query_prefix)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "batch_size": 64}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if int(config.get("batch_size", 1)) < 1:
            raise ValueError("SentenceEmbeddingFeaturizer: batch_size must be at least 1")

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        self._kb = load_settings().kb  # encoder folder and query prefix, read once

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The encoder's weights shape every feature, but the graph does not see them."""
        from knowledge_base.embedding import encoder_fingerprint

        return encoder_fingerprint(load_settings().encoder_path)

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "SentenceEmbeddingFeaturizer":
        return cls(config, execution_context.node_name)

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sentence_transformers"]

    def _featurize(self, messages: List[Message]) -> None:
        todo = [m for m in messages if m.get(TEXT)]
        if not todo:
            return
        vectors = embed_for_features(self._kb, [m.get(TEXT) for m in todo], self._config["batch_size"])
        for message, vector in zip(todo, vectors):
            self.add_features_to_message(sequence=None, sentence=vector[None, :], attribute=TEXT,
                                         message=message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages
