"""Rasa input/output channels of the assistant (web chat, WeChat, agent desk, REST helpers).

Importing this package (the Rasa server does, to load our channels) installs the masking of
personal data and tokens in every log record of the process (bot/logging_privacy.py).
"""
from bot.logging_privacy import install_log_masking

install_log_masking()
