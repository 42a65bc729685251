"""Knowledge changes under four eyes: drafts, approval by a second person, publishing, rollback.

changes.py (what a change is, pure), store.py (the review tables and the maker-checker rule),
publish.py (approved changes to the live index), clusters.py (what customers asked that the
knowledge base could not answer, grouped for review). docs/knowledge_review.md explains the loop.
"""
