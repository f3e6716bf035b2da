"""An in-process radio: bumble virtual controllers on one LocalLink, so a central reaches a peripheral.

No kernel device, root or D-Bus: every device made here shares the link and only talks to devices
of the same process.
"""

from __future__ import annotations

from bumble import hci
from bumble.controller import Controller
from bumble.device import Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink


class Radio:
    """One shared virtual link; ``device()`` adds a bumble device (host + controller) on it."""

    def __init__(self) -> None:
        """Create the empty link; devices are added with ``device``."""
        self.link = LocalLink()  # type: ignore[no-untyped-call, unused-ignore]  # untyped in some bumble releases
        self._central: Device | None = None

    def device(self, name: str, address: str) -> Device:
        """A new bumble device on this link with a static random address (not powered on yet)."""
        controller = Controller(name, link=self.link, public_address=address)
        host = Host(controller, AsyncPipeSink(controller))
        return Device(name=name, address=hci.Address(address), host=host)

    async def central(self) -> Device:
        """The one central device spinesense's bleak backend scans and connects with (powered on)."""
        if self._central is None:
            self._central = self.device("spinesense-host", "C0:5E:05:E0:00:01")
            await self._central.power_on()
        return self._central
