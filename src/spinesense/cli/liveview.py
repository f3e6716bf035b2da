"""The terminal live view (rich) for run, demo and replay --broker: what the runner's laptop shows.

Connection state, the last stride's metrics, the active alerts, samples lost, the MQTT outbox, and a
progress bar when the source has a known length. Used only when the output is a terminal; otherwise
the service prints plain lines.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table

from spinesense.cli.console import MISSING, direction

if TYPE_CHECKING:
    from rich.console import RenderableType

    from spinesense.service import Service

SHOWN: tuple[tuple[str, str, str], ...] = (
    ("cadence_spm", "cadence", "{:.0f} steps/min"),
    ("gct_ms", "ground contact", "{:.0f} ms"),
    ("vgrf_peak_bw", "peak force", "{:.2f} BW"),
    ("loading_rate_g_per_s", "loading rate", "{:.0f} g/s"),
    ("vertical_oscillation_cm", "bounce", "{:.1f} cm"),
    ("pelvic_tilt_rom_deg", "pelvic tilt", "{:.1f}°"),
    ("pelvic_drop_left_deg", "pelvic drop left", "{:.1f}°"),
    ("pelvic_drop_right_deg", "pelvic drop right", "{:.1f}°"),
)
LEANS: tuple[tuple[str, str, str, str], ...] = (
    ("trunk_lean_deg", "trunk lean", "forward", "back"),
    ("trunk_lateral_lean_deg", "side lean", "left", "right"),
)


class LiveView:
    """Redraws a panel from the service's and its publisher's state a few times a second."""

    def __init__(self, length_s: float | None = None) -> None:
        """``length_s`` (the recording's duration) enables the progress bar."""
        self.length_s = length_s

    def render(self, service: Service) -> RenderableType:
        """The current state as one renderable."""
        run = service.run_state
        if run is None:
            return Panel("starting", title="spinesense", border_style="blue")
        result, counts, publisher = run.result, run.result.counts, service.publisher
        head = Table.grid(padding=(0, 2))
        if run.link:
            head.add_row("sensor", run.link)
        if publisher is not None:
            state = (
                "[green]connected[/]" if publisher.connected else "[yellow]broker unreachable: queueing[/]"
            )
            head.add_row("MQTT", f"{service.broker}  {state}")
        head.add_row(
            "data",
            f"{counts.samples} samples, {counts.gaps} gaps ({counts.lost_samples} lost), "
            f"{len(result.strides)} strides",
        )
        head.add_row("baseline", run.engine.baseline_state().describe())
        if publisher is not None:
            head.add_row("outbox", f"{publisher.outbox_depth} waiting, {publisher.strides_shed} strides shed")
        parts: list[RenderableType] = [head]
        if self.length_s and result.strides:
            done = min(result.strides[-1].t_end_s, self.length_s)
            parts.append(ProgressBar(total=self.length_s, completed=done, width=60))
        stride = result.strides[-1] if result.strides else None
        metrics = Table(title="last stride", show_header=False, expand=False)
        for field, label, fmt in SHOWN:
            value = getattr(stride, field) if stride else None
            metrics.add_row(label, MISSING if value is None else fmt.format(value))
        for field, label, positive, negative in LEANS:
            metrics.add_row(label, direction(getattr(stride, field) if stride else None, positive, negative))
        parts.append(metrics)
        active = run.engine.active()
        alerts = Table(title="active alerts", show_header=False)
        for alert in active:
            alerts.add_row(f"[bold red]{alert.kind}[/]", alert.message)
        parts.append(alerts if active else "[dim]no active alerts[/]")
        return Panel(Group(*parts), title="spinesense", border_style="blue")

    async def run(self, service: Service, console: Console | None = None) -> None:
        """Redraw until cancelled (a companion of the service)."""
        with Live(self.render(service), console=console or Console(), refresh_per_second=4) as live:
            while True:
                await asyncio.sleep(0.25)
                live.update(self.render(service))
