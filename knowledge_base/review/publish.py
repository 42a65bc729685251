"""From approved changes to the live index: the shipped content plus the overlay, built and published.

Running servers follow the index folder's CURRENT pointer (live.py), so publishing is the whole of
"going live": no restart. Each publish builds from *all* approved changes as they stand, and checks
before it points CURRENT that no revision was approved meanwhile (else it builds again), so replicas
approving at the same moment both end on the newest content.
"""
from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path

from knowledge_base.config import KBConfig
from knowledge_base.content import Content, load_content
from knowledge_base.ingest.library import shipped_documents
from knowledge_base.index import current_version_dir, build_index, publish_version
from knowledge_base.review.changes import apply_changes
from knowledge_base.review.store import KnowledgeReview, review_engine

log = logging.getLogger(__name__)
_publishing = threading.Lock()  # one build at a time per process (a build is CPU-heavy)
MAX_ATTEMPTS = 3


def knowledge_content(config: KBConfig, review: KnowledgeReview | None) -> Content:
    """The content as it is live: the shipped YAML entries and documents, with every approved change
    applied in order."""
    content = load_content(config.content_dir)
    content.documents = shipped_documents(config.documents_dir)
    return apply_changes(content, review.live_changes()) if review is not None else content


def review_for_build(config: KBConfig) -> KnowledgeReview | None:
    """The review database for a command-line build, if there is one (a build never creates it)."""
    url = config.review_db_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return None
    return KnowledgeReview(review_engine(url))


def publish_live(config: KBConfig, review: KnowledgeReview, actor: str) -> dict:
    """Build the approved knowledge and make it the live index; returns {revision, index_version}."""
    index_dir = Path(config.index_dir)
    with _publishing:
        for _ in range(MAX_ATTEMPTS):
            revision = review.latest_revision()
            content = knowledge_content(config, review)
            version_dir = build_index(content, config, publish=False)
            if review.latest_revision() != revision:
                _discard(index_dir, version_dir)
                continue
            publish_version(index_dir, version_dir.name)
            if revision:
                review.published(revision, version_dir.name, content.content_hash(), actor)
            log.info("knowledge revision %s live as %s", revision, version_dir.name)
            return {"revision": revision, "index_version": version_dir.name, "entries": len(content.entries)}
    raise RuntimeError(f"knowledge kept changing during {MAX_ATTEMPTS} builds; publish again")


def _discard(index_dir: Path, version_dir: Path) -> None:
    """Remove a staged version that lost the race (never the live one)."""
    try:
        live = current_version_dir(index_dir)
    except Exception:  # noqa: BLE001 - nothing live yet: nothing to protect
        live = None
    if version_dir != live:
        shutil.rmtree(version_dir, ignore_errors=True)
