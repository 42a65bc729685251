"""NLU graph component that attaches the knowledge-base assessment to every parsed message.

Retrieval runs in the Rasa server, next to the rest of NLU, so the encoder is
loaded once per server process and new index builds are picked up live;
actions only read ``latest_message["kb"]``.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path
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
UNAVAILABLE = "unavailable"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class KnowledgeBaseRetrieval(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"top_k": 3, "index_dir": None}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = config
        self._live = None
        self._lock = threading.Lock()

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "KnowledgeBaseRetrieval":
        return cls(config)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "KnowledgeBaseRetrieval":
        component = cls(config)
        component._live_retriever()  # load the encoder at start-up, not on the first message
        return component

    def _live_retriever(self) -> Optional[Any]:
        with self._lock:
            if self._live is None:
                from knowledge_base.live import LiveRetriever

                kb = load_settings().kb
                if self._config.get("index_dir"):
                    kb = replace(kb, index_dir=Path(self._config["index_dir"]))
                try:
                    self._live = LiveRetriever(kb)
                except Exception as exc:  # the bot must keep talking without a KB
                    log.error("knowledge base unavailable: %s", exc)
            return self._live

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            message.set(KB_KEY, self._assess(message.get(TEXT) or ""), add_to_output=True)
        return messages

    def _assess(self, text: Text) -> Dict[Text, Any]:
        live = self._live_retriever()
        if live is None:
            return {"decision": UNAVAILABLE, "confidence": 0.0, "hits": []}
        retriever = live.current
        try:
            result = retriever.assess(text, k=self._config["top_k"]).as_dict()
        except Exception:  # never let one odd message break the conversation
            log.exception("knowledge-base lookup failed")
            return {"decision": UNAVAILABLE, "confidence": 0.0, "hits": []}
        return {**result, "index_version": retriever.version}
