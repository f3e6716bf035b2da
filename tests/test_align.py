"""Alignment (align.py): the float moments and the closed-form 2x2 spread agree with numpy's answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from spinesense.processing.align import (
    MIN_MOTION_VAR,
    WindowMoments,
    horizontal_spread,
    principal_horizontal_axis,
    rotation_from_axes,
)


def test_window_moments_are_the_mean_and_sample_covariance() -> None:
    rng = np.random.default_rng(3)
    acc = rng.normal(0, 3, (400, 3)) + np.array([1.0, -2.0, 9.81])
    moments = WindowMoments.of(acc)
    np.testing.assert_allclose(moments.mean, acc.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(moments.cov, np.cov(acc.T), rtol=1e-12)
    up = (0.0, 0.6, 0.8)
    assert moments.variance_along(up) == pytest.approx(float(np.var(acc @ np.array(up))), rel=1e-12)


@pytest.mark.parametrize("seed", range(200))
def test_closed_form_spread_matches_the_eigen_decomposition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Any mounting, any posture; horizontal variances from still to running, some nearly isotropic.
    sensor_from_body = Rotation.random(random_state=seed).as_matrix()
    body_cov = np.diag(rng.uniform(0, 1, 3) * rng.choice([0.01, 1.0, 30.0], 3))
    body_cov[0, 1] = body_cov[1, 0] = rng.uniform(-0.5, 0.5) * math.sqrt(body_cov[0, 0] * body_cov[1, 1])
    cov = sensor_from_body @ body_cov @ sensor_from_body.T
    moments = WindowMoments((0.0, 0.0, 9.81), (tuple(cov[0]), tuple(cov[1]), tuple(cov[2])), 400)
    aligned = rotation_from_axes(sensor_from_body[:, 2], sensor_from_body @ rng.normal(size=3))
    forward, left, _ = aligned.tolist()

    ratio, angle = horizontal_spread(moments, forward, left)
    axis, expected_ratio = principal_horizontal_axis(moments, aligned[2])

    assert ratio == pytest.approx(expected_ratio, rel=1e-9)
    if expected_ratio > 1.01:  # a main axis exists: the same one, at the same angle from forward
        expected_angle = math.degrees(math.acos(min(1.0, abs(float(axis @ aligned[0])))))
        assert angle == pytest.approx(expected_angle, abs=1e-6)


def test_no_motion_gives_a_zero_ratio() -> None:
    cov = ((MIN_MOTION_VAR / 3, 0.0, 0.0), (0.0, MIN_MOTION_VAR / 4, 0.0), (0.0, 0.0, 5.0))
    moments = WindowMoments((0.0, 0.0, 9.81), cov, 400)
    assert horizontal_spread(moments, (1.0, 0.0, 0.0), (0.0, 1.0, 0.0))[0] == 0.0
