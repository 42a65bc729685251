"""The one error a demo turn raises: caught per conversation, so one failure never stops the run."""


class DemoError(RuntimeError):
    """A turn went wrong; the message says what, for the failure list."""
