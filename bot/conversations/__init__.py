"""Conversation regression suite: ``python -m bot.conversations test FILE…``.

Replays multi-turn conversations (YAML, see model.py) over the REST channel of a running
assistant (or one started for the run with ``--in-process``) and checks every turn's
expectations against the replies and the tracker after the turn.
"""
