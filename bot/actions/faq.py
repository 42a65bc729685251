"""Answer knowledge questions from the assessment the NLU pipeline attached to the message.

answer   -> the entry's answer, with provenance (metadata {faq_id, score}, slot kb_answer_id), followed by a
            confident passage of the bank's documents when there is one (the FAQ says "以示例银行规定为准";
            the document is that rule)
otherwise, a confident passage of the bank's documents -> its relevant sentences with the citation
            (utter_document_answer; metadata {doc, section, page, version})
clarify  -> the top candidates as buttons; a button's payload selects the entry (a possible passage of the
            documents is one more button)
otherwise, possible passages (the documents' "clarify") -> offered, not asserted: the best sections by name,
            a button each that shows its text (utter_document_clarify)
otherwise -> say so and suggest rephrasing; the second such turn in a row offers a human
             (the last rung of the fallback ladder)
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Sequence, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import english, turn_command
from bot.dialogue.between_flows import FAQ_ID
from bot.dialogue.history import recent_events
from bot.settings import load_settings
from knowledge_base.doc_answer import CITATION_PREFIX, citation_key

log = logging.getLogger(__name__)

KB_ANSWER_SLOT = "kb_answer_id"
FAILED_TURNS_SLOT = "failed_turns"
OFFER_HUMAN_AFTER = 2
CLARIFY_TEXT = "您想咨询的是下面哪个问题？请点击选择；如果都不是，请换个说法描述一下。"
CLARIFY_TEXT_EN = "Which of these questions do you mean? Tap one; if none fits, please describe it another way."
# what a possible passage keeps in the clarification's metadata, to be answered when the customer picks it
OFFERED_DOCUMENT_KEYS = ("doc", "title", "section", "page", "text", "confidence")


def choice_payload(faq_id: Text) -> Text:
    return "/faq" + json.dumps({FAQ_ID: faq_id}, ensure_ascii=False)


def _answer_text(entry: Dict[Text, Any], en: bool) -> Text:
    """The entry's answer in the customer's language (Chinese when no English text exists)."""
    return (entry.get("answer_en") if en else None) or entry["answer"]


def _documents_offered(document: Dict[Text, Any], version: Optional[Text]) -> List[Dict[Text, Any]]:
    """The sections a possible answer (the documents' "clarify") offers: its best one and the next ones,
    each with the text it would show and the knowledge version it comes from."""
    if document.get("decision") != "clarify":
        return []
    sections = [document, *(document.get("others") or [])]
    return [{**{key: s.get(key) for key in OFFERED_DOCUMENT_KEYS}, "version": version}
            for s in sections if s.get("text") and s.get("section")]


def _document_button(offered: Dict[Text, Any]) -> Dict[Text, Text]:
    return {"title": f"《{offered['title']}》{offered['section']}",
            "payload": choice_payload(citation_key(offered["doc"], offered["section"]))}


def _last_offered(tracker: Tracker, key: Text) -> List[Dict[Text, Any]]:
    """What the most recent bot message that offered any kept under ``key`` in its metadata
    (``kb_candidates``: FAQ entries of a clarification; ``kb_documents``: sections of the documents)."""
    for event in reversed(recent_events(tracker.events)):
        offered = (event.get("metadata") or {}).get(key) if event.get("event") == "bot" else None
        if offered:
            return offered
    return []


def _last_candidates(tracker: Tracker) -> Dict[Text, float]:
    """faq_id -> score offered in the most recent clarification."""
    return {c["faq_id"]: c["score"] for c in _last_offered(tracker, "kb_candidates")}


class ActionAnswerFaq(Action):
    def name(self) -> Text:
        return "action_answer_faq"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        # a menu button's entity, or the entry the customer named by position ("第二个", bot/dialogue)
        chosen = next(tracker.get_latest_entity_values(FAQ_ID), None) or (
            turn_command(tracker).get("slots") or {}).get(FAQ_ID)
        if chosen:
            return self._answer_choice(dispatcher, tracker, chosen)
        kb = tracker.latest_message.get("kb") or {}
        hits = kb.get("hits") or []
        en = english(tracker)
        parts = kb.get("parts") or []
        asked = turn_command(tracker).get("questions")
        if asked:  # a message that also asks for a task: only its questions are answered here
            parts = [part for part in parts if part.get("text") in asked]
        if len(parts) > 1 or (asked and parts):  # several questions in one message: answer (or clarify) each
            return self._answer_parts(dispatcher, kb, parts, en)
        document = kb.get("document") or {}
        if kb.get("decision") == "answer" and hits:
            events = self._answer(dispatcher, hits[0]["faq_id"], _answer_text(hits[0], en), hits[0]["score"],
                                  kb.get("confidence"), kb.get("index_version"))
            if document.get("decision") == "answer":  # the bank's own text with the figures, cited
                self._answer_from_document(dispatcher, document, kb.get("index_version"))
            return events
        if document.get("decision") == "answer":
            return self._answer_from_document(dispatcher, document, kb.get("index_version"))
        offered = _documents_offered(document, kb.get("index_version"))
        if kb.get("decision") == "clarify" and hits:  # the entries, and the bank's text as one more choice
            self._clarify(dispatcher, hits, en, documents=offered[:1])
            return [SlotSet(KB_ANSWER_SLOT, None)]
        if offered:
            return self._offer_documents(dispatcher, offered)
        return self._no_answer(dispatcher, tracker)

    def _answer_parts(self, dispatcher: CollectingDispatcher, kb: Dict[Text, Any], parts: List[Dict[Text, Any]],
                      en: bool) -> List[Dict[Text, Any]]:
        """A part is answered when it is confident on its own, or when it is the entry the whole
        message is confidently about; otherwise that part gets its own choices."""
        whole = (kb.get("hits") or [{}])[0].get("faq_id") if kb.get("decision") == "answer" else None
        events: List[Dict[Text, Any]] = []
        for part in parts:
            top = part["hits"][0]
            if part.get("decision") == "answer" or top["faq_id"] == whole:
                events = self._answer(dispatcher, top["faq_id"], _answer_text(top, en), top["score"],
                                      part.get("confidence"), kb.get("index_version"))
            else:
                self._clarify(dispatcher, part["hits"], en, about=part.get("text"))
        return events or [SlotSet(KB_ANSWER_SLOT, None)]

    @staticmethod
    def _answer_from_document(dispatcher: CollectingDispatcher, document: Dict[Text, Any],
                              knowledge_version: Optional[Text],
                              selected: bool = False) -> List[Dict[Text, Any]]:
        """Only the passage's own sentences, with the document and section they come from."""
        # Rasa drops empty values from a bot event's metadata (a null page would vanish): the flat keys are
        # there when known, ``provenance`` always holds all four
        provenance = {"doc": document["doc"], "section": document["section"], "page": document.get("page"),
                      "version": knowledge_version}
        dispatcher.utter_message(response="utter_document_answer", title=document["title"], passage=document["text"],
                                 **provenance, provenance=provenance, confidence=document.get("confidence"),
                                 selected_by_customer=selected)
        return [SlotSet(KB_ANSWER_SLOT, None), SlotSet(FAILED_TURNS_SLOT, 0.0)]

    @staticmethod
    def _offer_documents(dispatcher: CollectingDispatcher,
                         offered: List[Dict[Text, Any]]) -> List[Dict[Text, Any]]:
        """Name the sections that may answer and let the customer open one: a passage the model is not sure
        of is never shown as the answer, and "I don't know" would hide what the bank's text may say.
        No provenance keys: nothing was answered yet (analytics counts a clarification)."""
        dispatcher.utter_message(response="utter_document_clarify",
                                 buttons=[_document_button(o) for o in offered], kb_documents=offered)
        return [SlotSet(KB_ANSWER_SLOT, None)]

    @staticmethod
    def _clarify(dispatcher: CollectingDispatcher, hits: List[Dict[Text, Any]], en: bool,
                 about: Optional[Text] = None, documents: Sequence[Dict[Text, Any]] = ()) -> None:
        text = CLARIFY_TEXT_EN if en else CLARIFY_TEXT
        if about:
            text = (f"About “{about}”: " if en else f"关于“{about}”：") + text
        buttons = [{"title": h["question"], "payload": choice_payload(h["faq_id"])} for h in hits]
        extra = {"kb_documents": list(documents)} if documents else {}
        candidates = [{"faq_id": h["faq_id"], "score": h["score"]} for h in hits]
        dispatcher.utter_message(text=text, buttons=buttons + [_document_button(d) for d in documents],
                                 kb_candidates=candidates, **extra)

    @staticmethod
    def _no_answer(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[Text, Any]]:
        return ActionAnswerFaq.not_understood(dispatcher, tracker, "utter_kb_no_answer")

    @staticmethod
    def not_understood(dispatcher: CollectingDispatcher, tracker: Tracker, response: Text) -> List[Dict[Text, Any]]:
        """One more turn the bot could not use; the second in a row offers a human (the fallback ladder)."""
        failed = int(tracker.get_slot(FAILED_TURNS_SLOT) or 0) + 1
        if failed >= OFFER_HUMAN_AFTER:
            dispatcher.utter_message(response="utter_offer_human", not_understood=True)
            failed = 0
        else:
            dispatcher.utter_message(response=response, not_understood=True)  # counted as such in analytics
        return [SlotSet(KB_ANSWER_SLOT, None), SlotSet(FAILED_TURNS_SLOT, float(failed))]

    def _answer_choice(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                       faq_id: Text) -> List[Dict[Text, Any]]:
        from knowledge_base.entries import lookup_versioned_entry

        if faq_id.startswith(CITATION_PREFIX):  # a section of the bank's documents the bot offered
            return self._answer_offered_document(dispatcher, tracker, faq_id)

        try:
            version, entry = lookup_versioned_entry(faq_id, load_settings().index_dir)
        except Exception:
            log.exception("could not read knowledge-base entries")
            version, entry = None, None
        if entry is None:
            return self._no_answer(dispatcher, tracker)
        return self._answer(dispatcher, faq_id, _answer_text(entry, english(tracker)),
                            _last_candidates(tracker).get(faq_id), None, version, selected=True)

    def _answer_offered_document(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 key: Text) -> List[Dict[Text, Any]]:
        """The section the last clarification offered under ``key``; its text and version are the ones offered
        (a button pressed after a new knowledge version went live still shows what it named)."""
        offered = next((o for o in _last_offered(tracker, "kb_documents")
                        if citation_key(str(o.get("doc")), str(o.get("section"))) == key), None)
        if offered is None:
            return self._no_answer(dispatcher, tracker)
        return self._answer_from_document(dispatcher, offered, offered.get("version"), selected=True)

    @staticmethod
    def _answer(dispatcher: CollectingDispatcher, faq_id: Text, answer: Text, score: Optional[float],
                confidence: Optional[float], knowledge_version: Optional[Text],
                selected: bool = False) -> List[Dict[Text, Any]]:
        # Provenance contract: bot event metadata {faq_id, score} + slot kb_answer_id; knowledge_version
        # names the index version (and so the approved knowledge revision) the answer came from.
        dispatcher.utter_message(text=answer, faq_id=faq_id, score=score, confidence=confidence,
                                 selected_by_customer=selected, knowledge_version=knowledge_version)
        return [SlotSet(KB_ANSWER_SLOT, faq_id), SlotSet(FAILED_TURNS_SLOT, 0.0)]
