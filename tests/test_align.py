"""Alignment (align.py): the window moments, and forward from the stances' braking for any mounting."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from spinesense.processing.align import (
    VOTES_KEPT,
    Alignment,
    WindowMoments,
    rotation_from_axes,
    stance_braking,
)


def test_window_moments_are_the_mean_and_sample_covariance() -> None:
    rng = np.random.default_rng(3)
    acc = rng.normal(0, 3, (400, 3)) + np.array([1.0, -2.0, 9.81])
    moments = WindowMoments.of(acc)
    np.testing.assert_allclose(moments.mean, acc.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(moments.cov, np.cov(acc.T), rtol=1e-12)
    up = (0.0, 0.6, 0.8)
    assert moments.variance_along(up) == pytest.approx(float(np.var(acc @ np.array(up))), rel=1e-12)


def _vector(v: np.ndarray) -> tuple[float, float, float]:
    """A 3-vector as the plain floats the votes are."""
    x, y, z = v.tolist()
    return x, y, z


def _votes(sensor_from_body: np.ndarray, forward_deg: float, n: int) -> list[tuple[float, float, float]]:
    """``n`` stances' early-minus-late force (sensor axes): braking along ``forward_deg`` from body x,
    plus a larger sideways part that alternates with the foot, and a vertical leak."""
    angle = math.radians(forward_deg)
    backward = -6.0 * np.array([math.cos(angle), math.sin(angle), 0.0])
    side = np.array([-math.sin(angle), math.cos(angle), 0.0])
    out = []
    for k in range(n):
        body = backward + side * (7.5 if k % 2 else -7.5) + np.array([0.0, 0.0, 3.0])
        out.append(_vector(sensor_from_body @ body))
    return out


def _aligned(sensor_from_body: np.ndarray) -> Alignment:
    """An alignment whose vertical is right and whose provisional forward is 70 degrees off."""
    alignment = Alignment(200.0)
    up = sensor_from_body[:, 2]
    alignment.body_from_sensor = rotation_from_axes(up, sensor_from_body @ np.array([0.34, 0.94, 0.0]))
    return alignment


@pytest.mark.parametrize("seed", range(20))
def test_braking_sets_forward_once_for_any_mounting(seed: int) -> None:
    sensor_from_body = Rotation.random(random_state=seed).as_matrix()
    alignment = _aligned(sensor_from_body)
    notices = [alignment.vote_forward(v) for v in _votes(sensor_from_body, 0.0, 40)]
    assert [n for n in notices if n] == ["forward direction found from braking"]
    assert notices.index("forward direction found from braking") == VOTES_KEPT - 1
    assert alignment.forward_known
    assert alignment.body_from_sensor is not None
    np.testing.assert_allclose(alignment.body_from_sensor, sensor_from_body.T, atol=0.03)


def test_stances_that_point_every_way_decide_nothing() -> None:
    # Turning, fiddling, stopping: each stance's braking in another direction (golden-angle steps).
    alignment = _aligned(np.eye(3))
    for k in range(40):
        angle = 2.4 * k
        assert alignment.vote_forward((6.0 * math.cos(angle), 6.0 * math.sin(angle), 0.0)) is None
    assert not alignment.forward_known


def test_a_turn_on_the_belt_needs_two_blocks_of_stances() -> None:
    alignment = _aligned(np.eye(3))
    for v in _votes(np.eye(3), 0.0, VOTES_KEPT):
        alignment.vote_forward(v)
    turned = [alignment.vote_forward(v) for v in _votes(np.eye(3), 90.0, 2 * VOTES_KEPT)]
    assert [n for n in turned if n] == ["sensor turned on the body (90 deg about the vertical): re-aligned"]
    assert turned[-1] is not None  # at the end of the second block, not before
    assert alignment.body_from_sensor is not None
    np.testing.assert_allclose(alignment.body_from_sensor[0], [0.0, 1.0, 0.0], atol=0.03)


def test_one_block_off_course_is_no_turn() -> None:
    alignment = _aligned(np.eye(3))
    for v in _votes(np.eye(3), 0.0, VOTES_KEPT):
        alignment.vote_forward(v)
    stances = _votes(np.eye(3), 60.0, VOTES_KEPT) + _votes(np.eye(3), 0.0, 4 * VOTES_KEPT)
    assert all(alignment.vote_forward(v) is None for v in stances)


def test_stance_braking_in_the_earth_frame_ignores_the_pelvis_tilting_in_stance() -> None:
    # Braking then propulsion along earth x, 2.5 g up, while the pelvis drops 8 degrees sideways.
    n, part = 60, 18
    earth = np.zeros((n, 3))
    earth[:, 0] = np.linspace(-6.0, 6.0, n)
    earth[:, 2] = 2.5 * 9.81
    drop = Rotation.from_euler("x", np.linspace(0.0, 8.0, n)[:, None], degrees=True)  # earth_from_sensor
    acc = drop.inv().apply(earth)
    quat = drop.as_quat()[:, [3, 0, 1, 2]]
    with_orientation = stance_braking(acc, quat, part)
    mid = drop[n // 2].apply(with_orientation)
    assert abs(mid[1]) < 0.1  # next to nothing sideways (each part turned at its middle sample)
    assert mid[0] < -8.0
    without = drop[n // 2].apply(stance_braking(acc, None, part))
    assert abs(without[1]) > 1.5  # the sensor-frame difference leans the vertical force sideways
