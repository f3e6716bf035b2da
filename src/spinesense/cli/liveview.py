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

if TYPE_CHECKING:
    from rich.console import RenderableType

    from spinesense.publish import Publisher
    from spinesense.service import Session

SHOWN: tuple[tuple[str, str, str], ...] = (
    ("cadence_spm", "cadence", "{:.0f} steps/min"),
    ("gct_ms", "ground contact", "{:.0f} ms"),
    ("vgrf_peak_bw", "peak force", "{:.2f} BW"),
    ("loading_rate_g_per_s", "loading rate", "{:.0f} g/s"),
    ("vertical_oscillation_cm", "bounce", "{:.1f} cm"),
    ("trunk_lean_deg", "trunk lean", "{:+.1f}°"),
    ("trunk_lateral_lean_deg", "side lean", "{:+.1f}°"),
    ("pelvic_tilt_rom_deg", "pelvic tilt", "{:.1f}°"),
)


class LiveView:
    """Redraws a panel from the session's and the publisher's state a few times a second."""

    def __init__(
        self, session: Session, publisher: Publisher, where: str, length_s: float | None = None
    ) -> None:
        """Watch ``session``; ``length_s`` (the recording's duration) enables the progress bar."""
        self.session = session
        self.publisher = publisher
        self.where = where
        self.length_s = length_s

    def render(self) -> RenderableType:
        """The current state as one renderable."""
        report = self.session.report
        state = (
            "[green]connected[/]" if self.publisher.connected else "[yellow]broker unreachable: queueing[/]"
        )
        head = Table.grid(padding=(0, 2))
        if report.link:
            head.add_row("sensor", report.link)
        head.add_row("MQTT", f"{self.where}  {state}")
        head.add_row(
            "data",
            f"{report.samples} samples, {report.gaps} gaps ({report.lost_samples} lost), "
            f"{len(report.strides)} strides",
        )
        head.add_row(
            "outbox", f"{self.publisher.outbox_depth} waiting, {self.publisher.strides_shed} strides shed"
        )
        parts: list[RenderableType] = [head]
        if self.length_s and report.strides:
            done = min(report.strides[-1].t_end_s, self.length_s)
            parts.append(ProgressBar(total=self.length_s, completed=done, width=60))
        stride = report.strides[-1] if report.strides else None
        metrics = Table(title="last stride", show_header=False, expand=False)
        for field, label, fmt in SHOWN:
            value = getattr(stride, field) if stride else None
            metrics.add_row(label, "-" if value is None else fmt.format(value))
        parts.append(metrics)
        active = self.session.engine.active()
        alerts = Table(title="active alerts", show_header=False)
        for alert in active:
            alerts.add_row(f"[bold red]{alert.kind}[/]", alert.message)
        parts.append(alerts if active else "[dim]no active alerts[/]")
        return Panel(Group(*parts), title="spinesense", border_style="blue")

    async def run(self, console: Console | None = None) -> None:
        """Redraw until cancelled."""
        with Live(self.render(), console=console or Console(), refresh_per_second=4, transient=False) as live:
            while True:
                await asyncio.sleep(0.25)
                live.update(self.render())
