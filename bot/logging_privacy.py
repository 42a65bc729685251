"""Personal data and tokens never reach a log line.

Every log record our processes create is masked where it is made (a LogRecord factory), so no
handler, formatter or logging set-up done later by Rasa, Sanic or a deployment can miss it:
the formatted message (text and arguments), the exception traceback, the stack and `extra=`
fields are run through :func:`bot.banking.masking.mask_text`, which also turns JWTs (eyJ….….…)
into "[token]"; secrets in URL query strings (``?token=…``) become "[secret]".

Installed on import of the packages the two server processes load (`connectors` in the Rasa
server, `bot.actions` in the action server). :class:`MaskingFilter` does the same for a handler
configured by hand (e.g. in a logging config file).
"""
from __future__ import annotations

import logging
import re
import traceback
from typing import Callable

from bot.banking.masking import mask_text

_installed = False
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


_SECRET_QUERY = re.compile(r"(?i)([?&](?:token|access_token|auth_token|ticket|signature|msg_signature)=)"
                           r"[^&\s\"']+")


def mask_log_text(text: str) -> str:
    """Personal data and JWTs masked, and secrets in URL query strings (Rasa's ?token=…) dropped."""
    return _SECRET_QUERY.sub(r"\1[secret]", mask_text(text))


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Replace the record's message, traceback, stack and `extra=` text fields by masked text."""
    if not getattr(record, "_pii_masked", False):
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what can be shown, masked
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = mask_log_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = mask_log_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_log_text(record.stack_info)
        record._pii_masked = True
    for key, value in list(record.__dict__.items()):  # `extra=` fields, e.g. Sanic's access-log request line
        if key not in _STANDARD and isinstance(value, str):
            record.__dict__[key] = mask_log_text(value)
    return record


class MaskingFilter(logging.Filter):
    """A handler filter that masks every record passing through (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def install_log_masking() -> None:
    """Mask every LogRecord this process creates from now on (once per process).

    The LogRecord factory covers every record however it is made; `Logger.makeRecord` is
    wrapped as well because it adds `extra=` fields only after the factory has run.
    """
    global _installed
    if _installed:
        return
    previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()
    make_record = logging.Logger.makeRecord

    def masked_record(*args: object, **kwargs: object) -> logging.LogRecord:
        return mask_record(previous(*args, **kwargs))

    def masked_make_record(self: logging.Logger, *args: object, **kwargs: object) -> logging.LogRecord:
        return mask_record(make_record(self, *args, **kwargs))

    logging.setLogRecordFactory(masked_record)
    logging.Logger.makeRecord = masked_make_record  # type: ignore[method-assign]
    _installed = True
