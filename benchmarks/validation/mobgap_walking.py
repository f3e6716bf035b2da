"""Walking initial contacts on mobgap's lab data (Mobilise-D, lower back, 100 Hz) against INDIP.

Ours: the initial contacts that begin or end the pipeline's walking strides (the whole trial is fed,
as a live stream would be). mobgap's detectors run per reference walking bout, as they are meant to
be used. Only the reference walking bouts are scored, since the reference labels nothing outside them:
a contact found there is matched to the nearest reference contact within ``TOLERANCE_S`` or is false.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from spinesense.models import SampleBlock
from validation.blocks import strides_from_blocks
from validation.errors import ErrorStats, match_events

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from numpy.typing import NDArray

TOLERANCE_S = 0.3
"""A found contact further than this from every reference contact is false (half a walking step)."""
RATE_HZ = 100.0


@dataclass(frozen=True, slots=True)
class WalkingTrial:
    """One lab trial: the sensor stream, reference contacts (samples) and walking bouts (start, end)."""

    name: str
    data: Any
    """mobgap's sensor-frame pandas DataFrame: acc in m/s^2, gyr in deg/s (pandas ships no stubs here)."""
    reference_ics: NDArray[np.int64]
    bouts: list[tuple[int, int]]

    def block(self) -> SampleBlock:
        """The trial as one SampleBlock (SI units)."""
        acc = self.data[["acc_x", "acc_y", "acc_z"]].to_numpy(dtype=float)
        gyr = np.radians(self.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(dtype=float))
        t = np.arange(acc.shape[0]) / RATE_HZ
        return SampleBlock(t_s=t, acc_mps2=acc, gyr_radps=gyr, first_index=0, rate_hz=RATE_HZ)


@dataclass(frozen=True, slots=True)
class WalkingScore:
    """Contacts found and matched, found but false, reference total, and the timing error (ms)."""

    matched: int
    false: int
    reference: int
    timing: ErrorStats


def load_trials(lab_folder: Path) -> list[WalkingTrial]:
    """Every trial with reference walking bouts under mobgap's ``example_data/data/lab``."""
    from mobgap.data import GenericMobilisedDataset  # noqa: PLC0415 - heavy, validation only

    dataset = GenericMobilisedDataset(
        sorted(lab_folder.glob("**/data.mat")),
        test_level_names=["time_measure", "test", "trial"],
        reference_system="INDIP",
        reference_para_level="wb",
        parent_folders_as_metadata=["cohort", "participant_id"],
        measurement_condition="laboratory",
    )
    trials = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mobgap warns about its experimental cache on every load
        for trial in dataset:
            ref = trial.reference_parameters_
            bouts = [(int(s), int(e)) for s, e in ref.wb_list[["start", "end"]].to_numpy()]
            if bouts:
                name = "_".join(str(v) for v in trial.group_label)
                ics = ref.ic_list["ic"].to_numpy(dtype=np.int64)
                trials.append(WalkingTrial(name, trial.data_ss, ics, bouts))
    return trials


def our_contacts(trial: WalkingTrial) -> NDArray[np.int64]:
    """Sample indices of the contacts that begin or end our walking strides."""
    strides = [s for s in strides_from_blocks([trial.block()]).strides if not s.running]
    times = {s.t_start_s for s in strides} | {s.t_end_s for s in strides}
    return np.array(sorted(round(t * RATE_HZ) for t in times), dtype=np.int64)


def mobgap_contacts(trial: WalkingTrial, detector: Callable[[], object]) -> NDArray[np.int64]:
    """Sample indices found by one of mobgap's initial-contact detectors, run on each walking bout."""
    from mobgap.utils.conversions import to_body_frame  # noqa: PLC0415 - heavy, validation only

    found: list[int] = []
    for start, end in trial.bouts:
        data = to_body_frame(trial.data.iloc[start : end + 1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = detector().detect(data, sampling_rate_hz=RATE_HZ)  # type: ignore[attr-defined]
        found += [start + int(i) for i in result.ic_list_["ic"]]
    return np.array(found, dtype=np.int64)


def score(trials: list[WalkingTrial], contacts: Callable[[WalkingTrial], NDArray[np.int64]]) -> WalkingScore:
    """Match ``contacts(trial)`` inside the reference walking bouts of every trial."""
    tol = round(TOLERANCE_S * RATE_HZ)
    matched = false = reference = 0
    errors: list[float] = []
    for trial in trials:
        found = contacts(trial)
        inside = np.zeros(found.shape, dtype=bool)
        for start, end in trial.bouts:
            inside |= (found >= start - tol) & (found <= end + tol)
        found = found[inside]
        f_idx, r_idx = match_events(found.astype(float), trial.reference_ics.astype(float), tol)
        matched += f_idx.size
        false += found.size - f_idx.size
        reference += trial.reference_ics.size
        errors += ((found[f_idx] - trial.reference_ics[r_idx]) / RATE_HZ * 1000.0).tolist()
    return WalkingScore(matched, false, reference, ErrorStats.of(errors, [0.0] * len(errors)))
