"""Custom actions, one module per flow. Loaded by `rasa run actions --actions bot.actions`.

Importing this package installs the masking of personal data and tokens in every log record of
the action server (bot/logging_privacy.py).
"""
from bot.logging_privacy import install_log_masking

install_log_masking()
