"""The knowledge loop in the console: the review queue, drafts, maker-checker decisions, rollback.

    GET  /agent/api/knowledge/queue?from=&to=[&channel=]   unanswered/clarified/low-rated questions, clustered (edit)
    GET  /agent/api/knowledge/entries?q=                    live entries to attach paraphrases to (draft)
    GET  /agent/api/knowledge/changes[?status=draft]        changes (an agent sees their own)
    GET  /agent/api/knowledge/changes/<id>                  one change: payload, diff against live, audit
    POST /agent/api/knowledge/changes                       a draft {kind, entry_id | category…, source} (draft)
    POST /agent/api/knowledge/documents?name=<file name>     a document (the file as the body) as a draft (draft)
    POST /agent/api/knowledge/changes/<id>/approve|reject   the checker's decision (approve; not the maker)
    GET  /agent/api/knowledge/revisions                     revision history, the live one first
    POST /agent/api/knowledge/rollback {"revision": n}      that revision's content goes live again (approve)
    POST /agent/api/knowledge/publish                       publish again after a failed build (approve)
    GET  /agent/api/knowledge/versions/<index_version>      which revision an answer's knowledge_version was

An approval or rollback answers once the new index is live on this server; the other replicas follow
the index folder within KB_RELOAD_INTERVAL_S (knowledge_base/live.py). docs/knowledge_review.md.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import func, select

from bot.analytics import tables
from bot.analytics.consumer import AnalyticsConsumer
from connectors.agent_desk.analytics import report_query
from connectors.agent_desk.auth import DeskAuth
from connectors.agent_desk.store import Agent
from connectors.agent_desk.validation import ApiError, json_body, text_field
from knowledge_base.config import KBConfig
from knowledge_base.entries import live_entries
from knowledge_base.index import current_version_dir, read_manifest
from knowledge_base.review.changes import Change, ChangeError, apply_changes, change_diff, normalise
from knowledge_base.review.clusters import cluster_questions
from knowledge_base.review.publish import knowledge_content, publish_live
from knowledge_base.review.store import STATUSES, KnowledgeReview, ReviewError

log = logging.getLogger(__name__)
MAX_DOCUMENT_BYTES = 20 * 2**20
REVIEW_OUTCOMES = ("no_answer", "clarify", "low_rated")
MAX_ENTRIES_LISTED = 50


class KnowledgeApi:
    def __init__(self, auth: DeskAuth, review: KnowledgeReview, config: KBConfig,
                 analytics: AnalyticsConsumer) -> None:
        self.auth, self.review, self.config, self.analytics = auth, review, config, analytics

    def routes(self) -> List[tuple]:
        base = "/agent/api/knowledge"
        return [
            (f"{base}/queue", ["GET"], self.review_queue),
            (f"{base}/entries", ["GET"], self.entries),
            (f"{base}/changes", ["GET"], self.changes),
            (f"{base}/changes", ["POST"], self.propose),
            (f"{base}/documents", ["POST"], self.upload_document),
            (f"{base}/changes/<change_id:int>", ["GET"], self.change),
            (f"{base}/changes/<change_id:int>/approve", ["POST"], self.approve),
            (f"{base}/changes/<change_id:int>/reject", ["POST"], self.reject),
            (f"{base}/revisions", ["GET"], self.revisions),
            (f"{base}/rollback", ["POST"], self.rollback),
            (f"{base}/publish", ["POST"], self.publish),
            (f"{base}/versions/<index_version:str>", ["GET"], self.version),
        ]

    # --- the review queue -----------------------------------------------------------------
    async def review_queue(self, request: Request) -> HTTPResponse:
        self.auth.capable(request, "edit", "work the review queue")
        day_from, day_to, channel = report_query(request.args)
        rows = await asyncio.to_thread(self._review_rows, day_from, day_to, channel)
        clusters = await asyncio.to_thread(cluster_questions, rows, self.config)
        return response.json({"from": day_from, "to": day_to, "channel": channel or "all",
                              "clusters": [c.as_dict() for c in clusters]})

    def _review_rows(self, day_from: str, day_to: str, channel: Optional[str]) -> List[tuple]:
        """(masked text, outcome, count) of the range's unanswered, clarified and low-rated messages, caught up
        first."""
        self.analytics.update()
        k = tables.kb_outcomes
        query = (select(k.c.text, k.c.outcome, func.count()).where(
            k.c.day >= day_from, k.c.day <= day_to, k.c.outcome.in_(REVIEW_OUTCOMES), k.c.text != "")
            .group_by(k.c.text, k.c.outcome))
        if channel:
            query = query.where(k.c.channel == channel)
        with self.analytics.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(query)]

    async def entries(self, request: Request) -> HTTPResponse:
        self.auth.capable(request, "draft", "read the knowledge entries")
        needle = (request.args.get("q") or "").strip()[:100].lower()
        found = [{"id": e["id"], "category": e["category"], "question": e["question"], "answer": e["answer"]}
                 for e in await asyncio.to_thread(live_entries, self.config.index_dir)
                 if not needle or needle in e["id"].lower() or needle in e["question"].lower()]
        return response.json({"entries": found[:MAX_ENTRIES_LISTED], "total": len(found)})

    # --- drafts ---------------------------------------------------------------------------
    async def changes(self, request: Request) -> HTTPResponse:
        agent = self.auth.capable(request, "draft", "read knowledge changes")
        status = (request.args.get("status") or "").strip() or None
        if status is not None and status not in STATUSES:
            raise ApiError(400, f'"status" must be one of {", ".join(STATUSES)}')
        rows = await asyncio.to_thread(self.review.list, status)
        if not agent.can("edit"):
            rows = [r for r in rows if r["maker"] == agent.username]
        return response.json({"changes": rows})

    async def change(self, request: Request, change_id: int) -> HTTPResponse:
        agent = self.auth.capable(request, "draft", "read knowledge changes")
        found = await asyncio.to_thread(self.review.get, change_id)
        if found is None or (not agent.can("edit") and found["maker"] != agent.username):
            raise ApiError(404, f"no knowledge change {change_id}")
        found["diff"] = await asyncio.to_thread(self._diff, found) if found["status"] == "draft" else None
        return response.json(found)

    def _diff(self, change: Dict[str, Any]) -> Any:
        content = knowledge_content(self.config, self.review)
        parsed = Change(change["id"], change["kind"], change["entry_id"], change["payload"])
        try:
            return change_diff(parsed, content)
        except ChangeError as exc:
            return {"error": f"this draft no longer applies: {exc}"}

    async def propose(self, request: Request) -> HTTPResponse:
        agent = self.auth.capable(request, "draft", "draft knowledge changes")
        body = json_body(request)
        source = str(body.get("source") or "")[:200]
        change_id = await asyncio.to_thread(self._propose, agent, str(body.get("kind") or ""), body, source)
        return response.json({"id": change_id, "status": "draft"}, status=201)

    def _propose(self, agent: Agent, kind: str, body: Dict[str, Any], source: str) -> int:
        content = knowledge_content(self.config, self.review)
        try:
            entry_id, payload = normalise(kind, body, content)
            change_id = self.review.propose(agent.username, kind, entry_id, payload, source)
            if kind == "new_entry" and not body.get("slug"):  # its id is its change's: category.added_<id>
                entry_id, payload = normalise(kind, payload | {"slug": None}, content, change_id)
                self.review.set_entry(change_id, entry_id, payload)
        except ChangeError as exc:
            raise ApiError(400, str(exc)) from None
        return change_id

    async def upload_document(self, request: Request) -> HTTPResponse:
        """The server parses the file itself (never trusting a client's passages) and drafts the result;
        it goes live once someone else approves it, like any knowledge change."""
        agent = self.auth.capable(request, "draft", "upload documents")
        name = Path(str(request.args.get("name") or "")).name
        if not name:
            raise ApiError(400, 'name the file: POST …/documents?name=<file name>, with the file as the body')
        body = request.body or b""
        if not body or len(body) > MAX_DOCUMENT_BYTES:
            raise ApiError(400, f"send the document as the request body (1 byte to {MAX_DOCUMENT_BYTES // 2**20} MiB)")
        record = await asyncio.to_thread(_parse_upload, name, body)
        change_id = await asyncio.to_thread(self._propose, agent, "document", record, f"upload:{name}"[:200])
        sections = len({p["section"] for p in record["passages"]})
        return response.json({"id": change_id, "status": "draft", "doc": name,
                              "passages": len(record["passages"]), "sections": sections}, status=201)

    # --- decisions (the checker) ----------------------------------------------------------
    async def approve(self, request: Request, change_id: int) -> HTTPResponse:
        agent = self.auth.capable(request, "approve", "approve knowledge changes")
        comment = str(json_body(request).get("comment") or "")[:500] if request.body else ""
        revision = await asyncio.to_thread(self._approve, agent, change_id, comment)
        return response.json({"approved": True, "revision": revision, **await self._publish(agent)})

    def _approve(self, agent: Agent, change_id: int, comment: str) -> int:
        found = self.review.get(change_id)
        if found is None:
            raise ApiError(404, f"no knowledge change {change_id}")
        content = knowledge_content(self.config, self.review)
        change = Change(change_id, found["kind"], found["entry_id"], found["payload"])
        try:
            apply_changes(content, [change])  # it must still apply to what is live now
            detail = {"diff": change_diff(change, content)}
            return self.review.approve(change_id, agent.username, detail, comment)
        except ChangeError as exc:
            raise ApiError(409, f"this draft no longer applies to the live knowledge: {exc}") from None
        except ReviewError as exc:
            raise ApiError(exc.status, exc.message) from None

    async def reject(self, request: Request, change_id: int) -> HTTPResponse:
        agent = self.auth.capable(request, "approve", "reject knowledge changes")
        comment = text_field(json_body(request), "comment", 500)
        try:
            await asyncio.to_thread(self.review.reject, change_id, agent.username, comment)
        except ReviewError as exc:
            raise ApiError(exc.status, exc.message) from None
        return response.json({"rejected": True})

    async def rollback(self, request: Request) -> HTTPResponse:
        agent = self.auth.capable(request, "approve", "roll the knowledge back")
        revision = json_body(request).get("revision")
        if not isinstance(revision, int) or isinstance(revision, bool):
            raise ApiError(400, '"revision" must be a whole number (0: the knowledge as shipped)')
        try:
            new_revision = await asyncio.to_thread(self.review.rollback, revision, agent.username)
        except ReviewError as exc:
            raise ApiError(exc.status, exc.message) from None
        return response.json({"rolled_back_to": revision, "revision": new_revision, **await self._publish(agent)})

    async def publish(self, request: Request) -> HTTPResponse:
        agent = self.auth.capable(request, "approve", "publish the knowledge")
        return response.json(await self._publish(agent))

    async def _publish(self, agent: Agent) -> Dict[str, Any]:
        """Build and switch to the approved knowledge; a failure keeps the old index serving."""
        try:
            return {"published": await asyncio.to_thread(publish_live, self.config, self.review, agent.username)}
        except Exception as exc:  # noqa: BLE001 - the decision is recorded; publishing can be retried
            log.exception("publishing the knowledge failed")
            raise ApiError(500, f"the decision is recorded but the new index could not be built ({exc}); "
                                "the previous knowledge keeps serving. Retry: POST /agent/api/knowledge/publish")

    async def reconcile(self) -> None:
        """At start: if the live index is not the approved knowledge (a set-up build from the shipped
        content alone, a publish that failed), publish it, so approved changes survive deploys."""
        try:
            content = await asyncio.to_thread(knowledge_content, self.config, self.review)
            live = read_manifest(current_version_dir(Path(self.config.index_dir))).get("content_hash")
            if live != content.content_hash():
                log.warning("live knowledge index differs from the approved knowledge; publishing it")
                await asyncio.to_thread(publish_live, self.config, self.review, "system")
        except Exception:  # noqa: BLE001 - the desk starts anyway; an approver can publish by hand
            log.exception("could not check the live knowledge against the approved changes")

    # --- history --------------------------------------------------------------------------
    async def revisions(self, request: Request) -> HTTPResponse:
        self.auth.capable(request, "edit", "read the knowledge history")
        rows = await asyncio.to_thread(self.review.revisions)
        return response.json({"live": rows[0]["id"] if rows else 0, "revisions": rows})

    async def version(self, request: Request, index_version: str) -> HTTPResponse:
        self.auth.capable(request, "edit", "read the knowledge history")
        found = await asyncio.to_thread(self.review.revision_of, index_version[:80])
        if found is None:
            raise ApiError(404, f"no published revision has index version {index_version[:80]!r}")
        return response.json(found)


def _parse_upload(name: str, body: bytes) -> Dict[str, Any]:
    """{"doc", "sha256", "passages"} of an uploaded file, or a 400 saying why it cannot be read."""
    import tempfile

    from knowledge_base.ingest.blocks import DocumentError
    from knowledge_base.ingest.library import document_record

    with tempfile.TemporaryDirectory(prefix="kb-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(body)
        try:
            record = document_record(path)
        except DocumentError as exc:
            raise ApiError(400, str(exc).replace(str(path), name)) from None
    return record
