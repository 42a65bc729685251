"""Supervisors' measures from the conversations' events (docs/analytics.md).

broker.py (Rasa's SQL event broker, private) → consumer.py (leased, transactional) → fold.py (one
conversation's events into facts) → tables.py → summary.py (the measures for a range and channel).
"""
