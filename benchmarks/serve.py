"""How many runners one ``spinesense serve`` process keeps up with, in real time, and what each costs.

For each N, a fresh process serves N runners, each replaying the same 200 Hz recording in real time
(paced as a live sensor streams) into a Mosquitto this script starts; this script subscribes to every
stride and timestamps its arrival. A stride's lag is its arrival minus the moment its last sample was
streamed (replay start + the stride's end in sensor time). Part of that lag is the pipeline's own
look-ahead (a stride ends at the next contact, which it needs a few samples past to find), the same for
one runner as for many, so the figure judged is the lag above a lone runner's for the same stride:
N keeps up when every stride arrives and none is more than 150 ms later than alone. A lone runner's lag
for one stride varies from run to run by some milliseconds (the machine, the broker), so "alone" is the
median over ``--lone-runs`` lone runs, stride by stride. Also printed:
the serving process's CPU (per cent of one core, per runner) and memory (peak RSS above the process
before its runners start, per runner), the machine's load average (shared machines vary), and under
each row the runners' notices, counted by text (printed as they come, one per runner, they would bury
the table).
Runners start one after another over ``--stagger`` seconds, as people do: started in the same instant,
every runner's one-off work (the first alignment) lands on the loop at once.

``--processes K`` splits the N runners over K serving processes (runner i in process i mod K), as K
``spinesense serve`` commands sharing one broker would: one Python process runs on one core at a time,
so this is how a machine's other cores serve runners too. CPU and memory are then the K processes' sums.

``--collect-at S`` times three full garbage collections in a row S seconds into each serving process
(each stops every runner: what it costs at N) and prints them with the objects the collector tracks; the
collections add to that run's lags, so judge capacity without it.

Usage: .venv/bin/python benchmarks/serve.py [--runners 1,50,100,200,300,400] [--file CAPTURE]
       [--lone-runs K] [--collect-at S] [--processes K]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import json
import logging
import os
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiomqtt

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from spinesense.models import Record

RECORDING = Path(__file__).resolve().parents[1] / "replay_data" / "fukuchi" / "RBDS0041.jsonl.gz"
BUDGET_MS = 150.0
"""A stride may reach the broker at most this much later than it does for a lone runner."""
WAIT_S = 30.0
"""How long strides may still come after the serving process has ended."""


def rss_kb() -> int:
    """This process's resident memory now (kB)."""
    with Path("/proc/self/statm").open() as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


async def timed_collections(at_s: float) -> dict[str, Any]:
    """At ``at_s`` seconds: the objects the collector tracks and three full collections' times (ms)."""
    await asyncio.sleep(at_s)
    tracked = len(gc.get_objects())
    times = []
    for _ in range(3):
        start = time.perf_counter()
        gc.collect()
        times.append(1000 * (time.perf_counter() - start))
    return {"tracked": tracked, "collect_ms": times}


async def serve_child(
    runners: int,
    port: int,
    file: Path,
    data_dir: Path,
    stagger_s: float,
    collect_at_s: float | None,
    shard: tuple[int, int] = (0, 1),
) -> dict[str, Any]:
    """A serving process: its share of N replays (runner i when i mod K is ``shard`` (j, K)) through one
    Squad, the N started ``stagger_s`` apart in all; its start times, CPU and memory."""
    from spinesense.config import Config  # noqa: PLC0415 - imported here so the baseline RSS includes it
    from spinesense.logs import NOTICE_LOGGER  # noqa: PLC0415
    from spinesense.models import Stride  # noqa: PLC0415
    from spinesense.publish.settings import BrokerSettings  # noqa: PLC0415
    from spinesense.serve import Runner, Squad  # noqa: PLC0415
    from spinesense.sources.replay import ReplaySource  # noqa: PLC0415

    starts: dict[str, float] = {}
    emitted: dict[str, dict[int, float]] = {}
    notices: Counter[str] = Counter()

    class CountNotices(logging.Handler):
        """The runners' notices, counted by text: one line each would bury the table (one per runner)."""

        def emit(self, record: logging.LogRecord) -> None:
            notices[record.getMessage()] += 1

    notice_log = logging.getLogger(NOTICE_LOGGER)
    notice_log.addHandler(CountNotices())
    notice_log.propagate = False

    def note_emitted(runner_id: str, event: object) -> None:
        """When the service handed each stride to its publisher (wall clock)."""
        if isinstance(event, Stride):
            emitted.setdefault(runner_id, {})[event.index] = time.time()

    class TimedReplay(ReplaySource):
        """A real-time replay that notes (wall clock) when its first record is due."""

        def __init__(self, runner_id: str, delay_s: float) -> None:
            super().__init__(file, 1.0, "benchmarks/serve.py")
            self.runner_id = runner_id
            self.delay_s = delay_s

        async def _timed(self, records: AsyncIterator[Any]) -> AsyncIterator[Any]:
            await asyncio.sleep(self.delay_s)  # runners start one after another, not all in one instant
            starts[self.runner_id] = time.time()
            async for item in records:
                yield item

        def batches(self) -> AsyncIterator[list[Record]]:
            return self._timed(super().batches())

        def __aiter__(self) -> AsyncIterator[Record]:  # what a service of before batches() reads (A/B)
            return self._timed(super().__aiter__())

    broker = BrokerSettings(host="127.0.0.1", port=port)
    base = rss_kb()
    cpu0, wall0 = time.process_time(), time.monotonic()
    squad = Squad(
        [
            Runner(
                Config(runner_id=f"r{i}", broker=broker, data_dir=data_dir, record=False),
                functools.partial(TimedReplay, f"r{i}", i * stagger_s / runners),
            )
            for i in range(shard[0], runners, shard[1])
        ],
        console=note_emitted,
    )
    census = None if collect_at_s is None else asyncio.create_task(timed_collections(collect_at_s))
    outcomes = await squad.serve()
    collections = None
    if census is not None:
        collections = census.result() if census.done() else None
        census.cancel()  # a run shorter than --collect-at: no collections to report
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    shed = sum(o.service.publisher.strides_shed for o in outcomes if o.service and o.service.publisher)
    return {
        "starts": starts,
        "emitted": emitted,
        "strides": {o.runner_id: len(o.result.strides) if o.result else -1 for o in outcomes},
        "errors": [o.error for o in outcomes if o.error],
        "cpu_core_pct": 100 * cpu / wall,
        "base_rss_mb": base / 1024,
        "peak_rss_mb": peak_kb / 1024,
        "shed": shed,
        "collections": collections,
        "notices": notices,
    }


async def measure(
    runners: int,
    port: int,
    file: Path,
    stagger_s: float,
    collect_at_s: float | None = None,
    processes: int = 1,
) -> dict[str, Any]:
    """Serve N runners in ``processes`` child processes while subscribed to their strides; lags per
    (runner, stride)."""
    arrivals: dict[tuple[str, int], tuple[float, float]] = {}

    async def listen(client: aiomqtt.Client) -> None:
        async for message in client.messages:
            now = time.time()
            stride = json.loads(message.payload)
            runner = str(message.topic).split("/")[2]
            arrivals[runner, stride["index"]] = (now, stride["t_end_s"])

    async with aiomqtt.Client("127.0.0.1", port, max_queued_incoming_messages=0) as client:
        await client.subscribe("spinesense/v1/+/stride")
        listener = asyncio.create_task(listen(client))
        with tempfile.TemporaryDirectory() as data_dir:
            command = [sys.executable, __file__, "--child", str(runners), "--port", str(port)]
            command += ["--file", str(file), "--data-dir", data_dir, "--stagger", str(stagger_s)]
            if collect_at_s is not None:
                command += ["--collect-at", str(collect_at_s)]
            children = [
                await asyncio.create_subprocess_exec(
                    *command, "--shard", f"{j}/{processes}", stdout=asyncio.subprocess.PIPE
                )
                for j in range(processes)
            ]
            outs = await asyncio.gather(*(child.communicate() for child in children))
        report = merged([json.loads(out) for out, _ in outs])
        expected = sum(n for n in report["strides"].values() if n > 0)
        deadline = time.monotonic() + WAIT_S
        while len(arrivals) < expected and time.monotonic() < deadline:  # noqa: ASYNC110 - QoS 0: no signal but arrival
            await asyncio.sleep(0.1)
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
    starts = report["starts"]
    report["lags"] = {
        key: arrival - (starts[key[0]] + t_end_s) for key, (arrival, t_end_s) in arrivals.items()
    }
    emitted = report["emitted"]
    report["delivery"] = [
        arrival - emitted[runner][str(index)] for (runner, index), (arrival, _) in arrivals.items()
    ]
    report["expected"] = expected
    return report


def merged(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """The serving processes' reports as one: their runners together, CPU and memory summed."""
    report = reports[0]
    for other in reports[1:]:
        for key in ("starts", "emitted", "strides"):
            report[key].update(other[key])
        report["errors"] += other["errors"]
        report["notices"] = Counter(report["notices"]) + Counter(other["notices"])
        for key in ("cpu_core_pct", "base_rss_mb", "peak_rss_mb", "shed"):
            report[key] += other[key]
    return report


def p99(ordered: list[float]) -> float:
    """The 99th percentile of sorted values (the nearest rank below)."""
    return ordered[int(0.99 * (len(ordered) - 1))]


def judge(runners: int, report: dict[str, Any], alone: dict[int, float]) -> bool:
    """Print one line for N runners; whether every stride came within the budget over a lone runner's."""
    lags = report["lags"]
    extra = [1000 * (lag - alone.get(index, lag)) for (_, index), lag in lags.items()]
    raw = sorted(1000 * lag for lag in lags.values())
    worst = max(extra, default=0.0)
    delivery = sorted(1000 * d for d in report["delivery"])
    if os.environ.get("SERVE_BENCH_DEBUG"):
        late = sorted(((e, k) for e, k in zip(extra, lags, strict=True)), reverse=True)[:10]
        print("      latest:", [(round(e), k) for e, k in late])
    per_runner_mb = (report["peak_rss_mb"] - report["base_rss_mb"]) / runners
    ok = len(lags) == report["expected"] and not report["errors"] and worst <= BUDGET_MS
    print(
        f"{runners:5d} {len(lags):8d}/{report['expected']:<8d} {report['shed']:5d} "
        f"{statistics.median(raw):8.0f} {p99(raw):8.0f} {worst:9.0f} "
        f"{p99(delivery):8.0f} {delivery[-1]:8.0f} "
        f"{report['cpu_core_pct']:7.1f} {report['cpu_core_pct'] / runners:8.2f} "
        f"{report['base_rss_mb']:7.0f} {report['peak_rss_mb']:7.0f} {per_runner_mb:7.2f} "
        f"{'yes' if ok else 'no':>5s}  load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    if report["collections"]:
        times = ", ".join(f"{ms:.0f}" for ms in report["collections"]["collect_ms"])
        print(f"      full collections: {times} ms, {report['collections']['tracked']:,} objects tracked")
    for error in report["errors"][:3]:
        print(f"      runner error: {error}")
    most = Counter(report["notices"]).most_common(3)
    if most:
        print("      notices:", "; ".join(f"{text} ({n}\u00d7)" for text, n in most))
    return ok


def median_lags(lone_runs: list[dict[str, Any]]) -> dict[int, float]:
    """Each stride's median lag over the lone runs (the baseline every N is judged against)."""
    by_stride: dict[int, list[float]] = {}
    for report in lone_runs:
        for (_, index), lag in report["lags"].items():
            by_stride.setdefault(index, []).append(lag)
    return {index: statistics.median(lags) for index, lags in by_stride.items()}


async def main_async(counts: list[int], args: argparse.Namespace) -> None:
    """Start Mosquitto; measure a lone runner ``--lone-runs`` times, then each N (in ``--processes``);
    print the largest N that kept up."""
    from spinesense.testing import running_mosquitto  # noqa: PLC0415

    file = args.file
    print(f"recording {file.name}, {os.cpu_count()} cores, load average {os.getloadavg()}")
    print(f"every N > 1 served by {args.processes} process(es)")
    print(
        "    N   strides/expected  shed  lag p50  lag p99  over 1 max  mqtt p99  mqtt max  "
        "CPU %core  %/runner  base MB  peak MB  MB/runner  ok"
    )
    best = previous = 0
    with tempfile.TemporaryDirectory() as workdir, running_mosquitto(Path(workdir)) as mosquitto:
        lone = [await measure(1, mosquitto.port, file, 0.0) for _ in range(args.lone_runs)]
        alone = median_lags(lone)
        for report in lone:  # each lone run against the median of all
            judge(1, report, alone)
        for n in counts:
            if n == 1:
                continue
            report = await measure(n, mosquitto.port, file, args.stagger, args.collect_at, args.processes)
            if judge(n, report, alone) and best == previous:
                best = n
            previous = n
    print(f"largest N (with every smaller N tried) that kept every stride within {BUDGET_MS:.0f} ms: {best}")


def main() -> None:
    """Parse the arguments; run the whole benchmark, or (``--child``) one serving process."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runners", default="50,100,200,300,400", help="N to try, in order")
    parser.add_argument("--file", type=Path, default=RECORDING, help="the recording every runner replays")
    parser.add_argument(
        "--stagger", type=float, default=20.0, help="seconds over which the N runners start (default 20)"
    )
    parser.add_argument(
        "--lone-runs", type=int, default=3, help="lone runs whose median lag is the baseline (default 3)"
    )
    parser.add_argument(
        "--collect-at", type=float, help="time three full collections this many seconds into each N's run"
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="serving processes the N runners are split over (default 1)"
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--shard", default="0/1", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        j, k = (int(part) for part in args.shard.split("/"))
        report = asyncio.run(
            serve_child(
                args.child, args.port, args.file, args.data_dir, args.stagger, args.collect_at, (j, k)
            )
        )
        print(json.dumps(report))
        return
    counts = [int(n) for n in args.runners.split(",")]
    if args.lone_runs < 1:
        parser.error("--lone-runs must be at least 1")
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    asyncio.run(main_async(counts, args))


if __name__ == "__main__":
    main()
