"""The streaming pipeline: SampleBlocks in, Strides out (synchronous, no I/O, its own state).

Stages: align (sensor -> body frame) -> tilt (orientation, with a gyroscope) -> gait (contacts and
steps) -> strides (metrics). Every decision depends only on the samples up to the sample at which it
is taken, and the alignment changes only at fixed sample counts, so the same strides come out whatever
the block sizes: one sample at a time, one notification at a time, or a whole file at once.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from typing import TYPE_CHECKING

from spinesense.models import GRAVITY_MPS2, SampleBlock, Stride
from spinesense.processing._history import History
from spinesense.processing._lowpass import CausalLowPass
from spinesense.processing.align import Alignment, stance_braking
from spinesense.processing.gait import Contact, ContactDetector, ContactEvent, StepSequence
from spinesense.processing.strides import Measures, StrideBatch, StrideSamples, side_of, stride_records
from spinesense.processing.tilt import Orientation
from spinesense.processing.walking import WalkingContacts

if TYPE_CHECKING:
    from collections.abc import Iterable

    import numpy as np
    from numpy.typing import NDArray

EVENT_CUTOFF_HZ = 20.0
"""Causal low-pass of the vertical force before contact detection: running contacts change slower than
this, impact vibration and clip wobble faster (compared with 50 and 80 Hz in benchmarks/README.md)."""
HISTORY_S = 8.0
"""Samples kept for stride metrics: several strides at the slowest cadence."""
SCAN_SPAN_S = 8.0
"""Stream time a long block may gather before it is scanned for contacts in one pass (fewer, longer
scans cost less); the history holds this much more than HISTORY_S so a scan's strides are still held."""
EARLY_STANCE = 0.3
"""Fraction of a stance at each end compared to find forward (braking first, propulsion last)."""
WALKING_STEP_S = (0.3, 1.0)
"""Walking step times outside this range (60-200 steps/min) end a walking step sequence."""
WALKING_MIN_CONTACTS = 4
"""Regular steps in a row before walking strides are reported: three could be chance (handling the sensor)."""
VERTICAL_KEPT = math.cos(math.radians(10.0))
"""A re-alignment that moves the vertical less than 10 degrees (a turn) keeps the walking steps going."""
ORIENTATION_SETTLE_S = 5.0
"""Stream time after the start or a gap before the orientation's mean angle (trunk lean) is trusted.

VQF pulls its inclination to the accelerometer's with a 3 s time constant; across a gap it starts from
where the pelvis was before it. Measured on the emulator's dropout run of RBDS0041 (Fukuchi): 5.7 deg
off right after a 4.8 s loss, 0.8 deg 4 s later, 0.2 deg 5 s later.
"""
BATCH_STRIDES = 64
"""Strides one pipeline leaves waiting at most: a long block is measured in batches of this many (also when
deferred). ``measure_together`` has no cap of its own: one batch holds what its pipelines have waiting."""
GYRO_METRICS = ("pelvic_tilt_rom_deg", "pelvic_drop_left_deg", "pelvic_drop_right_deg", "pelvic_rotation_deg")


class Pipeline:
    """Per-stride metrics from one sensor's stream; see the module docstring for the guarantees."""

    def __init__(self, rate_hz: float, *, has_gyr: bool, deferred: bool = False) -> None:
        """Start a pipeline for a stream at ``rate_hz``, with or without gyroscope data.

        ``deferred``: running strides are left waiting for ``measure_together`` (which measures those of
        many pipelines in one batch), then ``collect`` returns them; ``feed`` returns only the strides before
        the first waiting (a long block's BATCH_STRIDES are still measured at once), ``flush`` all.
        """
        self.rate_hz = rate_hz
        self.deferred = deferred
        self.notices: list[str] = []
        """Things the runner or developer should know (alignment, gaps); the consumer clears it."""
        if not has_gyr:
            self.notices.append("no gyroscope: " + ", ".join(GYRO_METRICS) + " cannot be computed")
        self.alignment = Alignment(rate_hz)
        self._orientation = Orientation(rate_hz) if has_gyr else None
        self._history = History(
            round((HISTORY_S + SCAN_SPAN_S) * rate_hz), {"t": 1, "acc": 3, "quat": 4, "clip": 1}
        )
        """Every sample fed goes through it: its ``end`` is the pipeline's sample count."""
        self._scan_span = round(SCAN_SPAN_S * rate_hz)
        self._settle = round(ORIENTATION_SETTLE_S * rate_hz)
        self._scanned = 0
        """Samples before this have been scanned for contacts (or came before the first alignment)."""
        # Its state is kept through gaps and re-alignments (never reset), unlike the walking filter.
        self._lowpass = CausalLowPass(EVENT_CUTOFF_HZ, rate_hz)
        self._detector = ContactDetector(rate_hz)
        self._sequence = StepSequence(rate_hz)
        self._stride_start: Contact | None = None
        self._walking = WalkingContacts(rate_hz)
        self._walk_sequence = StepSequence(rate_hz, WALKING_STEP_S, toe_off=False)
        self._side_evidence = 0.0
        self._sequence_strides = 0
        self._evidence_restarts = True
        """Set when side evidence must start afresh (new sequence, forward set or turned) at the next one."""
        self._waiting = 0
        """Strides in ``_out`` still to be measured (see ``_measure``)."""
        self._next_boundary = self.alignment.window
        self._strides = 0
        self._out: list[Stride | StrideSamples] = []
        self._resumed_at = -1
        """Sample count where the stream resumed after its last gap: contacts starting there are cut off."""

    def feed(self, block: SampleBlock) -> list[Stride]:
        """Take the next samples; return the strides completed by them."""
        if block.gaps:
            lost = sum(g.missing for g in block.gaps)
            self.notices.append(f"{lost} samples lost before t={block.t_s[0]:.2f} s: step sequence restarted")
            self._restart()
            self._resumed_at = self._history.end
        pos, n = 0, len(block)
        while pos < n:
            stop = min(n, pos + self._next_boundary - self._history.end)
            self._store(block, pos, stop)
            pos = stop
            if self._history.end == self._next_boundary:
                self._window_done()
        self._scan()
        return self._take(measure=not self.deferred)

    def flush(self) -> list[Stride]:
        """End of stream: align on what there is if no full window came, and return what that gives."""
        if self.alignment.body_from_sensor is None and self._history.end > self.rate_hz:
            self._window_done(partial=True)
        return self._take(measure=True)

    @property
    def waiting(self) -> int:
        """Running strides cut and not yet measured (a deferred pipeline's, until ``measure_together``)."""
        return self._waiting

    def collect(self) -> list[Stride]:
        """A deferred pipeline's strides once ``measure_together`` has measured them (else none)."""
        return self._take(measure=False)

    @staticmethod
    def measure_together(pipelines: Iterable[Pipeline]) -> None:
        """Measure the waiting strides of several pipelines in one batch per sample rate.

        A stride's figures depend only on its own samples (``strides``), so each pipeline gets what its own
        batch would give; one batch of eight strides costs about a quarter of eight batches of one. Many
        runners in one process (``spinesense.serve``) measure their strides this way.
        """
        by_rate: defaultdict[float, list[Pipeline]] = defaultdict(list)
        for pipeline in pipelines:
            if pipeline.waiting:
                by_rate[pipeline.rate_hz].append(pipeline)
        for rate_hz, group in by_rate.items():
            parts = [pipeline._unmeasured() for pipeline in group]  # noqa: SLF001 - its own class's
            batch = StrideBatch([s for part in parts for s in part], rate_hz)
            start = 0
            for pipeline, part in zip(group, parts, strict=True):
                pipeline._place(part, batch.column_slice(start, start + len(part)))  # noqa: SLF001 - as above
                start += len(part)

    def _take(self, *, measure: bool) -> list[Stride]:
        """The strides completed so far: all (measuring those waiting) or those before the first waiting."""
        if not self._out:
            return []  # most notifications complete no stride
        if measure:
            self._measure()
        ready = len(self._out)
        if self._waiting:
            ready = next(i for i, item in enumerate(self._out) if isinstance(item, StrideSamples))
        out: list[Stride] = self._out[:ready]  # type: ignore[assignment] # the items before any waiting one
        del self._out[:ready]
        return out

    def _measure(self) -> None:
        """Measure the waiting strides as one batch and put their records in their places in ``_out``.

        Running strides are cut as they complete and measured together (at the end of a feed unless
        deferred, at ``flush``, or every BATCH_STRIDES strides): whole-array work over many strides instead
        of many small calls.
        """
        if self._waiting:
            samples = self._unmeasured()
            self._place(samples, StrideBatch(samples, self.rate_hz).columns)

    def _unmeasured(self) -> list[StrideSamples]:
        """The strides waiting to be measured, in order."""
        return [item for item in self._out if isinstance(item, StrideSamples)]

    def _place(
        self, samples: list[StrideSamples], columns: Measures[NDArray[np.float64], NDArray[np.float64]]
    ) -> None:
        """Give the waiting ``samples`` their sides; put their records (from ``columns``) in their places."""
        places = [i for i, item in enumerate(self._out) if isinstance(item, StrideSamples)]
        # The side evidence is kept only once the records are made: a batch that fails is measured again
        # (``spinesense.meter``), which must not count its evidence twice.
        evidence, strides_in_sequence = self._side_evidence, self._sequence_strides
        sides = []
        for s, lateral in zip(samples, columns.lateral_difference_g.tolist(), strict=True):
            if s.new_evidence:
                evidence, strides_in_sequence = 0.0, 0
            if s.forward_known:
                evidence += lateral
                strides_in_sequence += 1
            sides.append(side_of(evidence, strides_in_sequence, forward_known=s.forward_known))
        records = stride_records(samples, columns, sides)
        self._side_evidence, self._sequence_strides = evidence, strides_in_sequence
        for place, stride in zip(places, records, strict=True):
            self._out[place] = stride
        self._waiting = 0

    def _restart(self, *, walking: bool = True) -> None:
        """Forget open contacts and the step sequence (the samples in between are unknown).

        ``walking=False`` keeps the walking steps: they need only the vertical, which a turn keeps.
        """
        self._detector.reset()
        if walking:
            self._walking.reset()
            self._walk_sequence.reset()
        self._end_sequence()

    def _end_sequence(self) -> None:
        """Start a new step sequence (the detector may already be inside the next contact)."""
        self._sequence.reset()
        self._stride_start = None

    def _store(self, block: SampleBlock, start: int, stop: int) -> None:
        """Store samples ``start:stop`` of ``block`` (scanned for contacts later, by ``_scan``)."""
        acc = block.acc_mps2[start:stop]
        rows: dict[str, NDArray[np.float64] | float] = {
            "t": block.t_s[start:stop],
            "acc": acc,
            "clip": float(block.clipped),
        }
        if self._orientation is not None and block.gyr_radps is not None:
            rows["quat"] = self._orientation.feed(acc, block.gyr_radps[start:stop])
        self._history.append(stop - start, rows)  # without a gyroscope the orientation rows stay NaN

    def _scan(self) -> None:
        """Scan the samples stored since the last scan for contacts, once aligned (before: skip them)."""
        end = self._history.end
        if self.alignment.body_from_sensor is not None and end > self._scanned:
            self._detect(self._history.get("acc", self._scanned, end), self._scanned)
        self._scanned = end

    def _window_done(self, *, partial: bool = False) -> None:
        """Update the alignment from the window just completed; on the first one, scan it for contacts.

        The samples stored since the last scan are scanned with the alignment they came under: first,
        when the update changes the alignment (or they span SCAN_SPAN_S); otherwise later, with more.
        """
        count = self._history.end
        start = 0 if partial else max(count - self.alignment.window, 0)
        window = self._history.get("acc", start, count)
        self._next_boundary = count + self.alignment.window
        if self._quiet_feed(window):
            if count - self._scanned >= self._scan_span:
                self._scan()
            return
        self._scan()
        # Updated again rather than the trial kept: the scan's braking votes may have set forward, which
        # a re-alignment that keeps the old forward axis must see.
        before = self.alignment.body_from_sensor
        first_time = before is None
        notice = self.alignment.feed(window)
        if notice:
            self.notices.append(notice)
            after = self.alignment.body_from_sensor
            kept = before is not None and after is not None and float(before[2] @ after[2]) > VERTICAL_KEPT
            self._restart(walking=not kept)
        if first_time and self.alignment.body_from_sensor is not None:
            self._detect(window, start, sign_first=True)

    def _quiet_feed(self, window: NDArray[np.float64]) -> bool:
        """Update the alignment if that changes nothing the contacts use; False (and no update) if it would.

        Most windows leave an alignment unchanged: then contacts scanned before or after the update
        come out the same, and the scan can wait. The update is tried on a copy to know.
        """
        if self.alignment.body_from_sensor is None:
            return False
        trial = self.alignment.copy()
        # An update that changes the rotation replaces its array, so the same object means unchanged.
        if trial.feed(window) is not None or trial.body_from_sensor is not self.alignment.body_from_sensor:
            return False
        self.alignment = trial
        return True

    def _detect(self, acc: NDArray[np.float64], first: int, *, sign_first: bool = False) -> None:
        """Vertical force of ``acc`` (samples from ``first``) -> contact events -> strides.

        ``sign_first``: the window the alignment came from is scanned at once, so its contacts can fix
        the forward sign before the first strides are measured.
        """
        assert self.alignment.body_from_sensor is not None  # noqa: S101 - only called once aligned
        vertical = acc @ self.alignment.body_from_sensor[2] / GRAVITY_MPS2
        events = self._detector.feed(self._lowpass(vertical), first)
        if sign_first:
            for event in events:
                if event.kind == "ended":
                    self._vote_forward(event.contact)
        pairs = self._walking.feed(vertical, first)
        if not events and not pairs:
            return  # most frames: no contact event and no walking step
        walking: list[tuple[int, ContactEvent | Contact]] = [
            (at, Contact(start=ic, ic=ic)) for at, ic in pairs
        ]
        # Running and walking events in sample order, so strides are numbered the same however split.
        running: list[tuple[int, ContactEvent | Contact]] = [(e.at, e) for e in events]
        merged = heapq.merge(running, walking, key=lambda pair: pair[0]) if walking else running
        for _, item in merged:
            if isinstance(item, ContactEvent):
                self._on_event(item, vote=not sign_first)
            else:
                self._on_walking_contact(item)

    def _on_walking_contact(self, contact: Contact) -> None:
        """Add a walking initial contact; emit a walking stride once a same-foot contact closes one."""
        self._walk_sequence.feed(contact)
        contacts = self._walk_sequence.contacts
        if len(contacts) >= WALKING_MIN_CONTACTS:
            a, c = contacts[-3].ic, contacts[-1].ic
            t_start = float(self._history.get("t", a, a + 1)[0, 0])
            t_end = float(self._history.get("t", c, c + 1)[0, 0])
            self._out.append(
                Stride(
                    index=self._strides,
                    t_start_s=t_start,
                    t_end_s=t_end,
                    side="unknown",
                    running=False,
                    cadence_spm=120.0 / (t_end - t_start),
                )
            )
            self._strides += 1

    def _on_event(self, event: ContactEvent, *, vote: bool = True) -> None:
        """Advance the step sequence; emit a stride when its second same-foot contact is confirmed."""
        contact = event.contact
        if self._shifted(contact.start) <= self._resumed_at:
            return  # it began in the gap (the samples either side are adjacent in the history): unusable
        if event.kind == "rejected":
            self._end_sequence()
        elif event.kind == "ended":
            if vote:
                self._vote_forward(contact)
        elif not self._sequence.feed(contact) or self._stride_start is None:
            self._stride_start = contact
            self._evidence_restarts = True
        else:
            contacts = self._sequence.contacts
            if len(contacts) >= 3 and contacts[-3] is self._stride_start:
                self._out.append(self._stride(*contacts[-3:]))
                self._stride_start = contact
                self._waiting += 1
                if self._waiting >= BATCH_STRIDES:
                    self._measure()

    def _vote_forward(self, contact: Contact) -> None:
        """Let a finished contact's stance vote on the forward direction (braking early, propulsion late).

        The stance is taken up to the contact's end at CONTACT_G, which the samples seen so far always hold
        (its toe-off may lie a little after it, or be unknown until the next contact).
        """
        assert self.alignment.body_from_sensor is not None  # noqa: S101 - contacts exist only once aligned
        part = max(1, round((contact.end - contact.ic) * EARLY_STANCE))
        ic, end = self._shifted(contact.ic), self._shifted(contact.end)
        acc = self._history.get("acc", ic, end)
        quat = None if self._orientation is None else self._history.get("quat", ic, end)
        before = self.alignment.body_from_sensor
        notice = self.alignment.vote_forward(stance_braking(acc, quat, part))
        if notice:
            self.notices.append(notice)
        if self.alignment.body_from_sensor is not before:
            self._evidence_restarts = True  # what was gathered was with the old forward

    def _shifted(self, index: int) -> int:
        """A detected event's sample moved back by the event filter's delay (never before the stream)."""
        return max(0, index - self._lowpass.delay)

    def _stride(self, a: Contact, b: Contact, c: Contact) -> StrideSamples:
        """The samples of the stride from contact ``a`` to contact ``c`` (same foot), to be measured."""
        assert self.alignment.body_from_sensor is not None  # noqa: S101 - contacts exist only once aligned
        lo, hi = self._shifted(a.ic), self._shifted(c.ic) + 1
        samples = StrideSamples(
            index=self._strides,
            t_s=self._history.get("t", lo, hi)[:, 0].copy(),  # copies: the history moves on
            acc_mps2=self._history.get("acc", lo, hi).copy(),
            quat=None if self._orientation is None else self._history.get("quat", lo, hi).copy(),
            body_from_sensor=self.alignment.body_from_sensor.copy(),  # measured later
            ics=(0, self._shifted(b.ic) - lo, self._shifted(c.ic) - lo),
            tos=(self._shifted(a.to) - lo, self._shifted(b.to) - lo),
            forward_known=self.alignment.forward_known,
            orientation_settled=lo - max(self._resumed_at, 0) >= self._settle,
            clipped=bool(self._history.get("clip", lo, hi).any()),
            new_evidence=self._evidence_restarts,
        )
        self._evidence_restarts = False
        self._strides += 1
        return samples
