"""Turning failures into messages in the page: never a traceback, and the app keeps working."""

from __future__ import annotations

import logging

from kg.errors import KgragError

log = logging.getLogger("kgrag.app")


def message_for(exc: BaseException) -> str:
    """A readable one-line message: the library's own for `KgragError`, a short one otherwise."""
    if isinstance(exc, KgragError):
        return str(exc)
    log.error("unexpected error in the app", exc_info=exc)  # the traceback goes to the log only
    return (
        f"an unexpected {type(exc).__name__} occurred ({exc}). The app is still running; "
        "the server log has the details."
    )
