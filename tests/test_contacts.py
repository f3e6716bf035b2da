"""The contact detectors find the same events however the stream is split.

A long block takes the whole-array searches (ContactDetector._new_contacts, WalkingContacts._resolve
with many pending crossings); single samples and notifications take the one-run-at-a-time paths. Both
must agree exactly, on signals that sit on the thresholds, hold NaNs and over-long contacts.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from spinesense.processing.gait import CONFIRM_G, CONTACT_G, LANDING_G, PUSH_OFF_G, ContactDetector
from spinesense.processing.walking import LEVEL_G, PEAK_G, SUPPORTED_G, WalkingContacts

RATE_HZ = 200.0
Event = tuple[str, int, int, int, int, int, int, int]


def _signal(seed: int, *, nan: bool) -> NDArray[np.float64]:
    """Running-like force with walking stretches, an over-long contact, samples exactly on the levels.

    ``nan``: with a few NaNs (not for the walking detector: its low-pass stays NaN after one).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(4000) / RATE_HZ
    running = 1.0 + 1.3 * np.sin(2 * np.pi * 2.8 * t) + rng.normal(0, 0.2, t.size)
    walking = 1.0 + 0.2 * np.sin(2 * np.pi * 1.8 * t) + rng.normal(0, 0.05, t.size)
    f_g = np.where((t % 6.0) < 4.0, running, walking)
    f_g[1500:1800] = 1.5  # a contact longer than MAX_CONTACT_S
    on_level = rng.random(t.size) < 0.05
    levels = [CONTACT_G, LANDING_G, CONFIRM_G, PUSH_OFF_G, LEVEL_G, PEAK_G, SUPPORTED_G]
    f_g[on_level] = rng.choice(levels, int(on_level.sum()))
    if nan:
        f_g[rng.random(t.size) < 0.002] = np.nan
    return f_g


def _contacts(f_g: NDArray[np.float64], size: int) -> list[Event]:
    """Running contact events (with the contact as it stands at the end) from blocks of ``size``.

    A contact rejected as too long stops following its toe-off level, at a point that depends on the
    split; nothing uses it, so it is left out then.
    """
    detector = ContactDetector(RATE_HZ)
    events = [e for i in range(0, f_g.size, size) for e in detector.feed(f_g[i : i + size], i)]
    return [
        (
            e.kind,
            e.at,
            e.contact.start,
            e.contact.ic,
            e.contact.confirmed_at,
            e.contact.to,
            e.contact.push_off if e.contact.to != -2 else -1,
            e.contact.end,
        )
        for e in events
    ]


def _walking(f_g: NDArray[np.float64], size: int) -> list[tuple[int, int]]:
    """Walking initial contacts from blocks of ``size``."""
    walking = WalkingContacts(RATE_HZ)
    return [pair for i in range(0, f_g.size, size) for pair in walking.feed(f_g[i : i + size], i)]


@pytest.mark.parametrize("seed", range(4))
def test_contacts_whatever_the_block_sizes(seed: int) -> None:
    """Whole, 1600-sample, 19-sample and single-sample blocks give identical events."""
    f_g = _signal(seed, nan=True)
    whole = _contacts(f_g, f_g.size)
    assert any(kind == "ended" for kind, *_ in whole)
    assert any(kind == "rejected" for kind, *_ in whole)
    for size in (1600, 19, 1):
        assert _contacts(f_g, size) == whole


@pytest.mark.parametrize("seed", range(4))
def test_walking_contacts_whatever_the_block_sizes(seed: int) -> None:
    """Whole, 1600-sample, 19-sample and single-sample blocks give identical walking contacts."""
    f_g = _signal(seed, nan=False)
    whole = _walking(f_g, f_g.size)
    assert whole
    for size in (1600, 19, 1):
        assert _walking(f_g, size) == whole


@pytest.mark.parametrize("size", [1, 19, 4000])
def test_initial_contact_is_the_landing_not_the_creep_before_it(size: int) -> None:
    """Force creeping up through CONTACT_G before a steep landing: the contact starts at the creep, but
    its initial contact is the landing (the first sample at LANDING_G), whatever the block size."""
    t = np.arange(200) / RATE_HZ
    creep = (t >= 0.2) & (t < 0.3)
    f_g = np.where(creep, 0.2 + 4.0 * (t - 0.2), 0.0)  # 0.2 -> 0.6 g in 100 ms
    landing = np.flatnonzero(t >= 0.3)[0]
    f_g[landing : landing + 40] = np.linspace(1.0, 2.5, 40)  # the landing, then stance
    detector = ContactDetector(RATE_HZ)
    events = [e for i in range(0, f_g.size, size) for e in detector.feed(f_g[i : i + size], i)]
    assert [e.kind for e in events] == ["confirmed", "ended"]
    contact = events[0].contact
    assert contact.start == np.flatnonzero(f_g > CONTACT_G)[0] < landing - 5
    assert contact.ic == landing


@pytest.mark.parametrize("size", [1, 19, 4000])
def test_toe_off_of_a_spring_mass_force_lies_near_its_end(size: int) -> None:
    """Half-sine contacts of the spring-mass model (peak pi/2 * step / contact, Morin et al. 2005; 0.23 s
    of a 0.33 s step): each toe-off, timed from the push-off's descent and the next step, lies within
    12 ms of the force's end (the model's own fraction at this duty factor is 0.14 of the step, the fitted
    one 0.16: 7 ms later). The last contact has no next step, so its toe-off stays unknown."""
    step, contact = round(0.33 * RATE_HZ), round(0.23 * RATE_HZ)
    peak = np.pi / 2 * step / contact
    f_g = np.zeros(8 * step)
    starts = range(step, 7 * step, step)
    for start in starts:
        f_g[start : start + contact] = peak * np.sin(np.pi * np.arange(contact) / contact)
    detector = ContactDetector(RATE_HZ)
    events = [e for i in range(0, f_g.size, size) for e in detector.feed(f_g[i : i + size], i)]
    contacts = [e.contact for e in events if e.kind == "ended"]
    assert len(contacts) == len(starts)
    for c, start in zip(contacts[:-1], starts, strict=False):
        assert c.to >= 0
        assert abs(c.to - (start + contact)) / RATE_HZ <= 0.012
    assert contacts[-1].to == -1
