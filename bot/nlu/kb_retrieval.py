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
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.message_parts import PARTS_KEY, message_parts, text_to_read
from bot.settings import load_settings

log = logging.getLogger(__name__)

KB_KEY = "kb"
DOCUMENT_KEY = "document"  # kb["document"]: knowledge_base.doc_answer.DocumentAnswer.as_dict()
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
            assessment = self._assess(text_to_read(message))
            message.set(KB_KEY, assessment, add_to_output=True)
            _mark_parts(message, assessment)
        return messages

    def _assess(self, text: Text) -> Dict[Text, Any]:
        live = self._live_retriever()
        if live is None:
            return {"decision": UNAVAILABLE, "confidence": 0.0, "hits": []}
        retriever = live.current
        parts = message_parts(text)
        try:
            if len(parts) > 1:
                retriever.prefetch([text, *parts])
            result = retriever.assess(text, k=self._config["top_k"]).as_dict()
        except Exception:  # never let one odd message break the conversation
            log.exception("knowledge-base lookup failed")
            return {"decision": UNAVAILABLE, "confidence": 0.0, "hits": []}
        answer = {**result, "index_version": retriever.version}
        answer[DOCUMENT_KEY] = self._document_answer(retriever, text)
        if len(parts) > 1:
            answer["parts"] = self._part_answers(retriever, parts)
        return answer

    @staticmethod
    def _document_answer(retriever: Any, text: Text) -> Dict[Text, Any]:
        """The bank's documents' answer (a cited passage): on its own when no FAQ entry is confident,
        after the FAQ answer when both are (FAQ answers are general; the documents hold the figures)."""
        try:
            return retriever.answer_from_documents(text).as_dict()
        except Exception:
            log.exception("document lookup failed")
            return {"decision": UNAVAILABLE, "confidence": 0.0}

    def _part_answers(self, retriever: Any, parts: List[Text]) -> List[Dict[Text, Any]]:
        """Each question of a multi-part message with its own assessment (answer or clarify; parts
        the knowledge base knows nothing about are left out, and each entry is used once)."""
        found, seen = [], set()
        for part in parts:
            try:
                result = retriever.assess(part, k=self._config["top_k"]).as_dict()
            except Exception:
                log.exception("knowledge-base lookup failed for a message part")
                continue
            hits = result.get("hits") or []
            if result.get("decision") in ("answer", "clarify") and hits and hits[0]["faq_id"] not in seen:
                seen.add(hits[0]["faq_id"])
                found.append({"text": part, **result})
        return found


def _mark_parts(message: Message, assessment: Dict[Text, Any]) -> None:
    """Each read message part (bot/nlu/message_parts.py) gets the knowledge base's decision on it."""
    parts = message.get(PARTS_KEY)
    if not parts:
        return
    known = {p["text"]: p for p in assessment.get("parts") or []}
    for part in parts:
        found = known.get(part["text"])
        part["kb"] = {"decision": found["decision"], "faq_id": found["hits"][0]["faq_id"]} if found else \
            {"decision": "no_answer", "faq_id": None}
