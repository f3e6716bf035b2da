"""The IMU distance estimate (cadence x step length model) against treadmill speeds someone else set."""

from __future__ import annotations

import numpy as np

from conftest import REPLAY_DATA
from validation.step_length import fukuchi_checks

FOLDER = REPLAY_DATA / "fukuchi"


def test_speed_from_the_step_length_model_within_its_stated_error() -> None:
    checks = fukuchi_checks(FOLDER, "RBDS0041") + fukuchi_checks(FOLDER, "RBDS032")
    errors = {c.trial: c.error for c in checks}
    assert len(errors) == 4
    # Inside the fitted range (3.5-4.5 m/s): within the model's leave-one-runner-out RMS, 12 % (measured
    # +1.1, -11.6, -4.7 %; +7.2, -7.3, -1.9 % and a 10 % bound before toe-off was timed from the push-off,
    # which lengthened these synthetic stances by about 34 ms: benchmarks/README.md).
    assert all(abs(e) <= 0.12 for trial, e in errors.items() if "T25" not in trial)
    # 2.5 m/s lies below the fitting data (3.8-5.4 m/s): overestimated (measured +36 %);
    # pinned so that a change shows.
    assert 0.0 < errors["RBDS0041runT252.txt"] <= 0.50
    assert float(np.mean(np.abs(list(errors.values())))) <= 0.20  # measured 13.4 %
