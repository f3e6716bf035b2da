"""Malformed frames: every decoder counts each defect by kind and logs only the first of each kind."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging


class DefectCounter:
    """Defects counted by kind in ``errors``; only the first of each kind is logged (no log flood)."""

    def __init__(self, logger: logging.Logger, message: str) -> None:
        """Warn on ``logger`` with ``message``, a %-format taking the defect's kind and detail."""
        self.errors: Counter[str] = Counter()
        self._logger = logger
        self._message = message
        self._logged: set[str] = set()

    def count(self, kind: str, detail: str) -> None:
        """Count one defect of ``kind``; log it if it is the first of its kind."""
        self.errors[kind] += 1
        if kind not in self._logged:
            self._logged.add(kind)
            self._logger.warning(self._message, kind, detail)
