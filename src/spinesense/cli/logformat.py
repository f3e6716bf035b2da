"""Log output on stderr: readable lines by default, one JSON object per line with ``--log-format json``.

JSON is for journald, Loki or Elasticsearch: machines parse it without regular expressions. Notices
from the pipeline (``note: ...``), the service's status lines and command errors go through the same
path, so everything on stderr follows the chosen format. A record logged inside a runner's task of
``serve`` (``spinesense.logs.runner_scope``) names its runner: ``[ana]`` before the message as text, a
``runner`` field in JSON; outside one (``run``, ``replay``) lines are as they always were.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import TYPE_CHECKING, Any, Final

from spinesense.logs import NOTICE_LOGGER, STATUS_LOGGER, current_runner

if TYPE_CHECKING:
    from typing import TextIO

LOG_FORMATS: Final = ("text", "json")

# Attributes every LogRecord has; anything else came in through ``extra=`` and is worth keeping.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class TextFormatter(logging.Formatter):
    """``LEVEL logger: message``, notices as ``note: message``, status lines exactly as written.

    Inside a runner's scope the message is led by ``[runner] ``.
    """

    def format(self, record: logging.LogRecord) -> str:
        """One readable line."""
        if record.name == NOTICE_LOGGER:
            return f"note: {_lead()}{record.getMessage()}"
        if record.name == STATUS_LOGGER:
            return _lead() + record.getMessage()
        return super().format(record)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        """``LEVEL logger: message``, the runner's lead before the message."""
        return f"{record.levelname} {record.name}: {_lead()}{record.message}"


class JsonFormatter(logging.Formatter):
    """``{"time": ISO 8601 UTC, "level", "logger", "message", [extras], ["exception"]}`` per record.

    Inside a runner's scope the extras include ``runner``.
    """

    def format(self, record: logging.LogRecord) -> str:
        """One line of JSON; fields given through ``extra=`` are kept, values JSON cannot hold as text."""
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        runner = current_runner()
        if runner is not None:
            entry.setdefault("runner", runner)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _lead() -> str:
    """``[runner] `` inside a runner's scope, else nothing."""
    runner = current_runner()
    return "" if runner is None else f"[{runner}] "


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the moment (so redirection after setup still works)."""

    @property
    def stream(self) -> TextIO:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        """Ignored: the stream is always the current ``sys.stderr``."""


def configure(log_format: str, verbose: bool) -> None:
    """Send every log record to stderr in ``log_format`` (one of ``LOG_FORMATS``), replacing our handler.

    Handlers others put on the root logger (e.g. pytest's) stay; calling this again only swaps ours.
    """
    if log_format not in LOG_FORMATS:
        msg = f"unknown log format {log_format!r} (expected one of: {', '.join(LOG_FORMATS)})"
        raise ValueError(msg)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # The embedded broker's chatter (and its WebSocket listener's) is not the user's business.
    for noisy in ("amqtt", "transitions", "websockets"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
