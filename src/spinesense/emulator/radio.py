"""Where a virtual sensor's bumble device lives: an in-process radio, or a controller behind a transport.

``Radio``: bumble virtual controllers on one LocalLink, so a central reaches a peripheral with no kernel
device, root or D-Bus; every device made there only talks to devices of the same process. Any number of
virtual sensors may share one radio; its one central is shared by every bleak scanner and client, as a
host adapter is under BlueZ (scans counted, connections made one at a time).
``on_transport``: a device driving a controller through any bumble transport (``vhci`` makes a virtual
controller that BlueZ, and so bleak, on this Linux machine sees; ``usb:0`` a USB dongle; ``tcp-client:``
a controller served over TCP), so other processes and machines reach the sensor.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from bumble import hci
from bumble.controller import Controller
from bumble.device import Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport import open_transport
from bumble.transport.common import AsyncPipeSink

DeviceFactory = Callable[[str, str], Device]
"""Makes the (not yet powered) bumble device for a sensor from its name and address."""


class Radio:
    """One shared virtual link; ``device()`` adds a bumble device (host + controller) on it."""

    def __init__(self) -> None:
        """Create the empty link; devices are added with ``device``."""
        self.link = LocalLink()  # type: ignore[no-untyped-call, unused-ignore]  # untyped in some bumble releases
        self._central: Device | None = None
        self._powering = asyncio.Lock()
        self._scan_lock = asyncio.Lock()
        self._scanners = 0
        self.connecting = asyncio.Lock()
        """Held while the central connects: a controller makes one LE connection at a time (BlueZ queues
        the others; bumble refuses them), so clients of several sensors take turns."""

    def device(self, name: str, address: str) -> Device:
        """A new bumble device on this link with a static random address (not powered on yet)."""
        controller = Controller(name, link=self.link, public_address=address)
        host = Host(controller, AsyncPipeSink(controller))
        return Device(name=name, address=hci.Address(address), host=host)

    async def central(self) -> Device:
        """The one central device spinesense's bleak backend scans and connects with (powered on)."""
        async with self._powering:  # made once, even when several clients ask at the same moment
            if self._central is None:
                central = self.device("spinesense-host", "C0:5E:05:E0:00:01")
                await central.power_on()
                self._central = central
        return self._central

    async def start_scanning(self) -> None:
        """Scan for one more scanner (the central scans while any scanner does)."""
        central = await self.central()
        async with self._scan_lock:
            self._scanners += 1
            if self._scanners == 1:
                await central.start_scanning(filter_duplicates=False)

    async def stop_scanning(self) -> None:
        """One scanner fewer; the central stops scanning after the last."""
        central = await self.central()
        async with self._scan_lock:
            self._scanners -= 1
            if self._scanners == 0:
                await central.stop_scanning()


@contextlib.asynccontextmanager
async def on_transport(spec: str) -> AsyncIterator[DeviceFactory]:
    """A device factory whose devices drive the controller behind bumble transport ``spec``; closed at exit.

    Raises OSError (or bumble's TransportInitError, a subclass of Exception) when it cannot be opened.
    """
    transport = await open_transport(spec)
    try:
        yield lambda name, address: Device.with_hci(
            name, hci.Address(address), transport.source, transport.sink
        )
    finally:
        await transport.close()
