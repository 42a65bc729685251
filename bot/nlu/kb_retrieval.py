"""NLU graph component that attaches knowledge-base hits to every parsed message.

Retrieval runs in the Rasa server, next to the rest of NLU, so the encoder is
loaded once per server process; actions only read ``latest_message["kb"]``.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.settings import load_settings

log = logging.getLogger(__name__)

KB_KEY = "kb"
ANSWER, NO_ANSWER, UNAVAILABLE = "answer", "no_answer", "unavailable"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class KnowledgeBaseRetrieval(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"top_k": 3, "index_dir": None}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = config
        self._retriever = None
        self._lock = threading.Lock()

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "KnowledgeBaseRetrieval":
        return cls(config)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "KnowledgeBaseRetrieval":
        component = cls(config)
        component._get_retriever()  # load the encoder at start-up, not on the first message
        return component

    def _get_retriever(self) -> Optional[Any]:
        with self._lock:
            if self._retriever is None:
                from knowledge_base import load_retriever

                try:
                    self._retriever = load_retriever(self._config.get("index_dir"))
                except Exception as exc:  # the bot must keep talking without a KB
                    log.error("knowledge base unavailable: %s", exc)
            return self._retriever

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            message.set(KB_KEY, self._lookup(message.get(TEXT) or ""), add_to_output=True)
        return messages

    def _lookup(self, text: Text) -> Dict[Text, Any]:
        retriever = self._get_retriever()
        if retriever is None:
            return {"decision": UNAVAILABLE, "hits": []}
        hits = retriever.search(text, k=self._config["top_k"])
        min_score = load_settings().kb_answer_min_score
        decision = ANSWER if hits and hits[0].score >= min_score else NO_ANSWER
        return {"decision": decision, "index_version": retriever.version,
                "hits": [h.as_dict() for h in hits]}
