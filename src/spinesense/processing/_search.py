"""First and last True of a boolean array: the event searches of the contact detectors."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


def first_true(mask: NDArray[np.bool_]) -> int:
    """Index of the first True in ``mask``, or -1 if there is none.

    argmax stops at the first True: several times cheaper than flatnonzero on a notification's samples.
    """
    if not mask.size:
        return -1
    at = int(mask.argmax())
    return at if mask[at] else -1


def last_true(mask: NDArray[np.bool_]) -> int:
    """Index of the last True in ``mask``, or -1 if there is none."""
    at = first_true(mask[::-1])
    return -1 if at < 0 else mask.size - 1 - at
