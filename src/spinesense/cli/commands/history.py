"""``spinesense history``: the stored runs with their training load, a metric's trend, weekly totals."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from spinesense.cli.commands._base import EXIT_OK, EXIT_USAGE, CommandError
from spinesense.cli.commands._store import add_store_arguments, config_with_runner, store_for

if TYPE_CHECKING:
    import argparse

    from spinesense.store import StoredRun

FIGURES = ("running_s", "steps", "impact_load_bw")
"""Per-run figures ``--metric`` takes besides the summary's metrics."""
BAR_WIDTH = 30


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``history`` command."""
    parser = subparsers.add_parser("history", help="stored runs, training load, weekly totals")
    parser.add_argument(
        "--metric", metavar="NAME", help="one metric's trend across runs (e.g. cadence_spm, impact_load_bw)"
    )
    parser.add_argument("--json", action="store_true", help="runs, weeks and load as one JSON object")
    add_store_arguments(parser)
    parser.set_defaults(handler=run)


def _value(run: StoredRun, name: str) -> float | None:
    """A per-run figure, the distance, or a summary metric of ``run``."""
    if name in FIGURES:
        return float(getattr(run.figures, name))
    if name == "distance_km":
        return run.distance_km
    return run.metric(name)


def _num(value: float | None, fmt: str) -> str:
    """A number in ``fmt``, or "-" when missing."""
    return "-" if value is None else format(value, fmt)


def _percent(fraction: float | None) -> str:
    """A change as a signed percentage, or "-" when there is nothing to compare with."""
    return "-" if fraction is None else f"{fraction * 100:+.0f}%"


def _minutes(seconds: float) -> str:
    """Seconds as m:ss."""
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def run_row(run: StoredRun, runs: list[StoredRun]) -> dict[str, Any]:
    """One run with its key metrics and the training load on its day, as plain values."""
    from spinesense.store.load import load_status

    load = load_status([r for r in runs if r.start_utc <= run.start_utc], run.start_utc.date())
    return {
        "id": run.id,
        "start_utc": run.start_utc.isoformat(),
        "duration_s": run.duration_s,
        **asdict(run.figures),
        "cadence_spm": run.metric("cadence_spm"),
        "trunk_lean_deg": run.metric("trunk_lean_deg"),
        "pelvic_drop_left_deg": run.metric("pelvic_drop_left_deg"),
        "pelvic_drop_right_deg": run.metric("pelvic_drop_right_deg"),
        "vgrf_peak_bw": run.metric("vgrf_peak_bw"),
        "alerts": run.alerts_raised,
        "distance_km": run.distance_km,
        "distance_source": run.distance_source,
        "shoes": run.shoes,
        "load_7d_bw": load.acute.impact_load_bw,
        "acwr": load.acwr,
        "weekly_change": load.weekly_change,
        "load_alerts": [a.kind for a in load.alerts],
    }


def _load_mark(kinds: list[str]) -> str:
    """The load mark of a run's day: "ok", or ALERT with that day's load alerts."""
    return "ALERT " + ",".join(kinds) if kinds else "ok"


def _print_runs(rows: list[dict[str, Any]]) -> None:
    """The runs table."""
    print(
        f"{'run':>4} {'date (UTC)':16} {'time':>6} {'steps':>6} {'cad':>5} {'lean':>5} {'drop L/R':>9} "
        f"{'impact':>6} {'alerts':>6} {'km':>7} {'shoes':12} {'7d kBW':>6} {'rise':>6} {'ACWR':>5} load"
    )
    for r in rows:
        drop = f"{_num(r['pelvic_drop_left_deg'], '.1f')}/{_num(r['pelvic_drop_right_deg'], '.1f')}"
        km = _num(r["distance_km"], ".2f") + ("~" if r["distance_source"] == "estimate" else " ")
        print(
            f"{r['id']:>4} {r['start_utc'][:16].replace('T', ' '):16} {_minutes(r['duration_s']):>6} "
            f"{r['steps']:>6} {_num(r['cadence_spm'], '.0f'):>5} {_num(r['trunk_lean_deg'], '.1f'):>5} "
            f"{drop:>9} {_num(r['vgrf_peak_bw'], '.2f'):>6} {r['alerts']:>6} {km:>7} "
            f"{(r['shoes'] or '-')[:12]:12} {r['load_7d_bw'] / 1000:>6.1f} "
            f"{_percent(r['weekly_change']):>6} "
            f"{_num(r['acwr'], '.2f'):>5} {_load_mark(r['load_alerts'])}"
        )
    print("cad: median cadence (steps/min); lean: trunk lean (deg); drop: pelvic drop (deg); impact: median")
    print("peak force per step (body weights); km~: estimated from the IMU; 7d kBW: impact load of the last")
    print("7 days (thousand body-weight steps); rise: against the 7 days before; ACWR: 7 d / 28 d")


def _print_weeks(runs: list[StoredRun]) -> None:
    """Weekly totals."""
    from spinesense.store.load import weeks

    print(f"\n{'week of':10} {'runs':>4} {'time':>7} {'steps':>7} {'km':>7} {'kBW':>6} {'change':>7}")
    for week in weeks(runs):
        t = week.totals
        change = _percent(week.change)
        print(
            f"{week.start.isoformat():10} {t.runs:>4} {_minutes(t.running_s):>7} {t.steps:>7} "
            f"{t.distance_km:>7.2f} {t.impact_load_bw / 1000:>6.1f} {change:>7}"
        )


def _print_trend(runs: list[StoredRun], name: str) -> None:
    """One metric per run with a bar scaled between its smallest and largest value."""
    points = [(r, v) for r in runs if (v := _value(r, name)) is not None]
    if not points:
        raise CommandError(f"--metric {name}: no stored run has it", EXIT_USAGE)
    low, high = min(v for _, v in points), max(v for _, v in points)
    span = (high - low) or 1.0
    print(f"{name} per run (bar from {low:.4g} to {high:.4g})")
    for r, v in points:
        bar = "#" * (1 + round((v - low) / span * (BAR_WIDTH - 1)))
        print(f"{r.id:>4} {r.start_utc:%Y-%m-%d %H:%M} {v:>10.4g} {bar}")


def run(args: argparse.Namespace) -> int:
    """Print the runner's history."""
    from spinesense.store.load import weeks
    from spinesense.store.session import load_payload

    config = config_with_runner(args)
    with store_for(config) as store:
        runs = store.runs(config.runner_id)
        load = load_payload(store, config, runs[-1].start_utc.date()) if runs else None
    rows = [run_row(r, runs) for r in runs]
    if args.json:
        weekly = [
            {"week_of": w.start.isoformat(), **asdict(w.totals), "change": w.change} for w in weeks(runs)
        ]
        print(json.dumps({"runner": config.runner_id, "runs": rows, "weeks": weekly, "load": load}))
        return EXIT_OK
    if not runs:
        print(f"no runs stored for runner {config.runner_id!r} yet")
        return EXIT_OK
    if args.metric:
        _print_trend(runs, args.metric)
        return EXIT_OK
    _print_runs(rows)
    _print_weeks(runs)
    return EXIT_OK
