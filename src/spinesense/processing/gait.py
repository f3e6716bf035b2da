"""Foot contacts from the sacral vertical acceleration, and the step sequence they form.

The vertical specific force at the sacrum follows the vertical ground reaction force divided by body
mass: near 0 g in flight, 2-3 g at mid-stance. A contact is where the low-passed signal stays above
``CONTACT_G`` (the body carries 0.4 of its weight); it counts only if it reaches ``CONFIRM_G`` (a real
landing, not a wobble), and its initial contact is where it first reaches ``LANDING_G``. Running has a
flight between contacts; walking (double support) and standing never drop below ``CONTACT_G``, so they
give no running strides. Contacts are confirmed within about 80 ms of initial contact, which keeps each
stride's latency under the 150 ms budget.

Toe-off is timed from the push-off's steep descent, not from a low level: the last sample at or above
``PUSH_OFF_G`` (where the force falls fastest, so an offset in the sacral signal moves it least), plus
``TOE_OFF_STEP`` of the step from this initial contact to the next, so a contact's toe-off is set when the
next contact is confirmed. In the spring-mass model's half-sine force (Morin et al. 2005) the fall from a
level to zero takes a fraction of the step; the force's last few tenths of a g, where a low level would
sit, differ from runner to runner and from slope to slope (see benchmarks/README.md).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from spinesense.processing._search import first_at_least, first_true, last_at_least, last_true

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

CONTACT_G = 0.4
"""Vertical specific force (g) above which the foot is taken to be on the ground."""
LANDING_G = 0.65
"""Initial contact: the first sample of a contact at or above this (g). Before the foot lands, the force
can creep up through CONTACT_G over tens of ms (the swing leg braking; heel strikes downhill), which put
initial contact early; the landing itself is steep. Chosen on half the trials (see benchmarks/README.md)."""
CONFIRM_G = 1.3
"""A contact must reach this (g) to count as a landing."""
PUSH_OFF_G = 1.3
"""The push-off's steep descent: toe-off is timed from the last sample at or above this (g). Not above
CONFIRM_G, so every confirmed contact has one."""
TOE_OFF_STEP = 0.16
"""Toe-off follows the last sample at PUSH_OFF_G by this fraction of the step time (this initial contact
to the next: the step the contact's impulse carries the body through). Fitted on half the Alcantara
trials (benchmarks/README.md); the half-sine model gives 0.10-0.18 over their duty factors."""
MIN_CONTACT_S = 0.06
MAX_CONTACT_S = 0.6
"""Longer than this above CONTACT_G is not a running step (walking, standing, a jump landing)."""
MANY_RUNS = 8
"""Above this many run boundaries in a block, its new contacts are searched all at once (see
``ContactDetector._new_contacts``); fewer (a notification) cost less one run at a time."""
MIN_STEP_S = 0.2
MAX_STEP_S = 0.7
"""Step times outside this range (85-300 steps/min) end a step sequence."""
MAX_STEP_RATIO = 1.5
"""Consecutive step times may differ by at most this factor within one sequence."""


@dataclass(slots=True)
class Contact:
    """One foot contact, in the pipeline's sample indices."""

    start: int
    """First sample above CONTACT_G: where the contact's length is counted from."""
    ic: int = -1
    """Initial contact: first sample at or above LANDING_G, within MAX_CONTACT_S of start (-1: none yet)."""
    confirmed_at: int = -1
    """Sample at which the contact reached CONFIRM_G (-1: not yet)."""
    to: int = -1
    """Toe-off: the sample nearest PUSH_OFF_G's crossing plus TOE_OFF_STEP of the step to the next contact,
    set when that contact is confirmed (-1: not yet, or no plausible next step; -2: rejected)."""
    push_off: int = -1
    """Last sample so far at or above PUSH_OFF_G."""
    end: int = -1
    """First sample below CONTACT_G after the contact (-1: not yet): toe-off may lie either side of it."""


class ContactEvent(NamedTuple):
    """Something the detector learnt at sample ``at``: a contact confirmed, ended, or rejected.

    A named tuple rather than a frozen dataclass: a long block makes one or two per contact, and a frozen
    dataclass's ``__init__`` (a guarded ``object.__setattr__`` per field) costs over twice as much.
    """

    kind: str
    """"confirmed", "ended" or "rejected"."""
    contact: Contact
    at: int


_UNKNOWN_START = Contact(start=-1, to=-2)
"""Stands for a contact already under way when scanning (re)started: ignored until it ends."""


class ContactDetector:
    """Finds contacts in a stream of vertical specific force (g), block by block, with carried state."""

    def __init__(self, rate_hz: float) -> None:
        """Set the duration limits in samples for ``rate_hz``."""
        self.min_len = max(1, round(MIN_CONTACT_S * rate_hz))
        self.max_len = round(MAX_CONTACT_S * rate_hz)
        self._steps = (MIN_STEP_S * rate_hz, MAX_STEP_S * rate_hz)
        self._open: Contact | None = _UNKNOWN_START
        """A stream may start mid-contact: that contact's start is unknown, so it never counts."""
        self._ended: Contact | None = None
        """The last contact that ended as a running one, waiting for the next to time its toe-off."""

    def reset(self) -> None:
        """Forget any open or ended contact (after a gap: the samples between are unknown)."""
        self._open = _UNKNOWN_START
        self._ended = None

    def feed(self, f_g: NDArray[np.float64], first: int) -> list[ContactEvent]:
        """Scan samples ``first .. first + len(f_g)``; return the events found, in sample order.

        The block is cut into runs above and below CONTACT_G. A run never needs the previous block's
        last sample: a run above extends the open contact (or opens one), a run below closes it.
        """
        events: list[ContactEvent] = []
        n = len(f_g)
        if not n:
            return events
        tail: list[int] = []  # bounds of the runs left to _new_contacts (a long block's many contacts)
        # Most notifications lie wholly on the ground or in the air. argmin/argmax skip the ufunc
        # reduction machinery (several times cheaper than min/max, or a mask's all/any, on a
        # notification); a NaN is picked by both and fails both tests, leaving it to the mask below.
        if f_g[f_g.argmin()] > CONTACT_G:
            bounds, above = [0, n], True
        elif f_g[f_g.argmax()] <= CONTACT_G:
            bounds, above = [0, n], False
        else:
            mask = f_g > CONTACT_G
            bounds = [0, *((mask[1:] != mask[:-1]).nonzero()[0] + 1).tolist(), n]
            above = bool(mask[0])
            if len(bounds) > MANY_RUNS:
                # The first run may continue the open contact, and a run above is closed by the run
                # after it: once those are done here, every run above starts a new contact.
                head = 3 if above else 2
                bounds, tail = bounds[:head], bounds[head - 1 :]
        for lo, hi in itertools.pairwise(bounds):  # the runs alternate above and below
            if above:
                if self._open is None:
                    self._open = Contact(start=first + lo)
                self._extend(f_g, lo, hi, first, events)
            elif self._open is not None:
                self._close(first + lo, events)
            above = not above
        if tail:
            self._new_contacts(f_g, tail, first, events)
        return events

    def _new_contacts(
        self, f_g: NDArray[np.float64], bounds: list[int], first: int, events: list[ContactEvent]
    ) -> None:
        """Account the runs between ``bounds`` (the first above CONTACT_G), with no contact open before.

        Each run above is a new contact. Its searches are done for all runs at once, by bisecting the
        indices of the samples at or above each level (a sample at or above LANDING_G, PUSH_OFF_G or
        CONFIRM_G is above CONTACT_G, so it lies in a run above); Python then only builds the contacts and
        events.
        """
        n = len(f_g)
        starts, stops = bounds[:-1:2], bounds[1::2]
        # First sample at or above CONFIRM_G and LANDING_G from each run's start (n: none), and last
        # sample at or above PUSH_OFF_G before each run's end (-1: none); each is checked against its run
        # below.
        highs = first_at_least(f_g, CONFIRM_G, starts)
        lands = first_at_least(f_g, LANDING_G, starts)
        lasts = last_at_least(f_g, PUSH_OFF_G, stops)
        max_len, add = self.max_len, events.append
        for lo, hi, high, land, last in zip(starts, stops, highs, lands, lasts, strict=True):
            # Only samples within the longest allowed contact can land or confirm it.
            confirmed = high < hi and high <= lo + max_len
            too_long = hi - lo > max_len
            if not (confirmed or too_long or hi == n):
                continue  # closed, unconfirmed and not too long: it leaves no trace
            landed = land < hi and land <= lo + max_len
            contact = Contact(
                first + lo, first + land if landed else -1, push_off=first + last if last >= lo else -1
            )
            if confirmed:
                self._confirm(contact, first + high, events)
            if too_long:
                contact.to = -2
                add(ContactEvent("rejected", contact, first + lo + max_len))
            self._open = contact
            if hi < n:
                self._close(first + hi, events)

    def _extend(
        self, f_g: NDArray[np.float64], lo: int, hi: int, first: int, events: list[ContactEvent]
    ) -> None:
        """Account samples ``lo:hi`` (all above CONTACT_G) to the open contact."""
        contact = self._open
        assert contact is not None  # noqa: S101 - called only with an open contact
        if contact.to == -2:  # already rejected as too long: wait for it to end
            return
        if contact.confirmed_at < 0:
            # Only samples within the longest allowed contact can land or confirm it, however the stream
            # is split. A contact is confirmed at or after its landing (CONFIRM_G > LANDING_G).
            segment = f_g[lo : min(hi, contact.start + self.max_len - first + 1)]
            if contact.ic < 0:
                land = first_true(segment >= LANDING_G)
                if land >= 0:
                    contact.ic = first + lo + land
            high = first_true(segment >= CONFIRM_G)
            if high >= 0:
                self._confirm(contact, first + lo + high, events)
        # Mid-push-off the run usually ends at or above PUSH_OFF_G: no search needed then.
        high = hi - 1 - lo if f_g[hi - 1] >= PUSH_OFF_G else last_true(f_g[lo:hi] >= PUSH_OFF_G)
        if high >= 0:
            contact.push_off = first + lo + high
        if first + hi - contact.start > self.max_len:
            contact.to = -2
            events.append(ContactEvent("rejected", contact, contact.start + self.max_len))

    def _close(self, at: int, events: list[ContactEvent]) -> None:
        """The open contact ended at sample ``at``."""
        contact = self._open
        assert contact is not None  # noqa: S101 - called only with an open contact
        self._open = None
        if contact.to == -2:  # rejected as too long (or begun before the stream): not a running step
            self._ended = None
            return
        if contact.confirmed_at < 0:
            return  # an unconfirmed wobble leaves no trace (as in _new_contacts)
        contact.end = at
        # Only a running contact can time its toe-off from the next one.
        running = at - contact.start >= self.min_len
        self._ended = contact if running else None
        events.append(ContactEvent("ended" if running else "rejected", contact, at))

    def _confirm(self, contact: Contact, at: int, events: list[ContactEvent]) -> None:
        """``contact`` reached CONFIRM_G at ``at``; its step from the last contact times that toe-off.

        Set before the event is added, so whoever handles the event finds the last contact's toe-off known.
        """
        contact.confirmed_at = at
        last, self._ended = self._ended, None
        if last is not None:
            step = contact.ic - last.ic
            if self._steps[0] <= step <= self._steps[1]:
                # The crossing lies between push_off and the sample after it (confirmed, so it reached
                # CONFIRM_G >= PUSH_OFF_G). Like an initial contact, the toe-off is the first sample at or
                # after the instant, so that contact times carry no bias from the sample rate.
                last.to = math.ceil(last.push_off + 0.5 + TOE_OFF_STEP * step)
        events.append(ContactEvent("confirmed", contact, at))


class StepSequence:
    """Consecutive running contacts, checked for plausible and regular step times."""

    def __init__(
        self, rate_hz: float, step_s: tuple[float, float] = (MIN_STEP_S, MAX_STEP_S), *, toe_off: bool = True
    ) -> None:
        """Set step-time limits ``step_s`` (s) in samples; ``toe_off``: each toe-off must be known."""
        self.min_step = step_s[0] * rate_hz
        self.max_step = step_s[1] * rate_hz
        self.toe_off = toe_off
        self.contacts: list[Contact] = []

    def reset(self) -> None:
        """Start a new sequence (a gap, a rejected contact, an irregular step)."""
        self.contacts.clear()

    def feed(self, contact: Contact) -> bool:
        """Append a confirmed contact; returns False (and restarts from it) when it breaks the sequence."""
        if self.contacts:
            last = self.contacts[-1]
            step = contact.ic - last.ic
            ok = (last.to >= 0 or not self.toe_off) and self.min_step <= step <= self.max_step
            if ok and len(self.contacts) >= 2:
                previous = last.ic - self.contacts[-2].ic
                ok = 1 / MAX_STEP_RATIO <= step / previous <= MAX_STEP_RATIO
            if not ok:
                self.contacts = [contact]
                return False
        self.contacts.append(contact)
        del self.contacts[:-4]
        return True
