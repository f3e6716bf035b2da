# ruff: noqa: ARG002, ANN401 - the backend methods keep bleak's signatures (Any included)
"""A bleak backend on bumble, so spinesense reaches virtual sensors only through bleak's own client API.

``backend_for(radio)`` gives the scanner and client backend classes to pass through bleak's ``backend=``
seam (``BleakScanner(..., backend=...)``, ``BleakClient(device, backend=...)``), as bleak's platform
backends do. They drive the radio's central bumble device: real advertising reports, connection, ATT MTU
exchange, GATT discovery, reads, writes and notifications over bumble's in-process link.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError
from bleak.uuids import normalize_uuid_str
from bumble import hci
from bumble.core import UUID, AdvertisingData
from bumble.device import Peer
from bumble.gatt import Characteristic

from spinesense.sources.ble_discovery import BleakBackend

if TYPE_CHECKING:
    from collections.abc import Callable

    from bleak.assigned_numbers import CharacteristicPropertyName
    from bleak.backends.device import BLEDevice
    from bumble.device import Advertisement, Connection
    from bumble.gatt_client import CharacteristicProxy

    from spinesense.emulator.radio import Radio

MTU: int = 247
"""The ATT MTU the client asks for right after connecting (firmware notes §7)."""

_PROPERTY_NAMES: dict[Characteristic.Properties, CharacteristicPropertyName] = {
    Characteristic.Properties.READ: "read",
    Characteristic.Properties.WRITE_WITHOUT_RESPONSE: "write-without-response",
    Characteristic.Properties.WRITE: "write",
    Characteristic.Properties.NOTIFY: "notify",
    Characteristic.Properties.INDICATE: "indicate",
}


def backend_for(radio: Radio) -> BleakBackend:
    """Scanner and client backend classes bound to ``radio``, for bleak's ``backend=``."""
    scanner = type("BumbleScanner", (BumbleScannerBackend,), {"radio": radio})
    client = type("BumbleClient", (BumbleClientBackend,), {"radio": radio})
    return BleakBackend(scanner=scanner, client=client)


def _uuid(uuid: UUID) -> str:
    """A bumble UUID as bleak spells it: 128-bit, lower case, with dashes."""
    return normalize_uuid_str(uuid.to_hex_str("-"))


def _advertisement_data(adv: Advertisement) -> AdvertisementData:
    """Translate a bumble advertising report into bleak's AdvertisementData."""
    data = adv.data
    name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(AdvertisingData.SHORTENED_LOCAL_NAME)
    uuids: list[str] = []
    for kind in (
        AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    ):
        for group in data.get_all(kind):
            uuids.extend(_uuid(uuid) for uuid in group)
    tx = None if adv.tx_power == adv.TX_POWER_NOT_AVAILABLE else adv.tx_power
    return AdvertisementData(
        name if isinstance(name, str) else None, {}, {}, sorted(set(uuids)), tx, adv.rssi, (adv,)
    )


class BumbleScannerBackend(BaseBleakScanner):
    """Scans with the radio's central device and reports each advertisement to bleak."""

    radio: ClassVar[Radio]

    def __init__(
        self, detection_callback: Any = None, service_uuids: list[str] | None = None, *_: Any, **__: Any
    ) -> None:
        """Keep bleak's callback and service filter; the central device is made on start."""
        super().__init__(detection_callback, service_uuids)
        self._listener: Callable[[Advertisement], None] | None = None

    async def start(self) -> None:
        """Start an active scan (shared with the radio's other scanners) and forward every report."""
        central = await self.radio.central()
        self.seen_devices = {}

        def on_advertisement(adv: Advertisement) -> None:
            data = _advertisement_data(adv)
            if not self.is_allowed_uuid(data.service_uuids):
                return
            address = str(adv.address).split("/")[0]
            device = self.create_or_update_device(address, address, data.local_name, adv.address, data)
            self.call_detection_callbacks(device, data)

        self._listener = on_advertisement
        central.on("advertisement", on_advertisement)
        await self.radio.start_scanning()

    async def stop(self) -> None:
        """Detach from the central device; it stops scanning once no other scanner scans."""
        central = await self.radio.central()
        if self._listener is not None:
            central.remove_listener("advertisement", self._listener)
            self._listener = None
            await self.radio.stop_scanning()


class BumbleClientBackend(BaseBleakClient):
    """Connects with the radio's central device and does GATT through bumble's client."""

    radio: ClassVar[Radio]

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        """Keep the target and bleak's disconnect callback."""
        super().__init__(
            address_or_ble_device,
            disconnected_callback=kwargs.get("disconnected_callback"),
            timeout=kwargs.get("timeout", 10.0),
        )
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._proxies: dict[int, CharacteristicProxy[bytes]] = {}

    @property
    def mtu_size(self) -> int:
        """The negotiated ATT MTU."""
        return self._connection.att_mtu if self._connection is not None else 23

    @property
    def is_connected(self) -> bool:
        """Whether the link is up."""
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        """Connect, exchange MTU 247 and discover the GATT database."""
        central = await self.radio.central()
        try:
            async with self.radio.connecting:
                connection = await central.connect(hci.Address(self.address), timeout=self._timeout)
        except (TimeoutError, hci.HCI_Error) as exc:
            raise BleakError(f"could not connect to {self.address}: {exc}") from exc
        self._connection = connection
        connection.on("disconnection", self._on_disconnection)
        peer = Peer(connection)
        self._peer = peer
        await peer.request_mtu(MTU)
        await peer.discover_services()
        services = BleakGATTServiceCollection()
        for service in peer.services:
            await service.discover_characteristics()
            bleak_service = BleakGATTService(service, service.handle, _uuid(service.uuid))
            services.add_service(bleak_service)
            for char in service.characteristics:
                props = [name for flag, name in _PROPERTY_NAMES.items() if char.properties & flag]
                uuid = _uuid(char.uuid)
                services.add_characteristic(
                    BleakGATTCharacteristic(
                        char, char.handle, uuid, props, lambda: self.mtu_size - 3, bleak_service
                    )
                )
                self._proxies[char.handle] = char
        self.services = services

    def _on_disconnection(self, _reason: int) -> None:
        """The link went down (either side): tell bleak."""
        self._connection = None
        self._peer = None
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        """Drop the link; a link already gone is fine."""
        connection = self._connection
        if connection is not None:
            await connection.disconnect()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """The reference sensor needs no pairing (firmware notes §3)."""
        raise NotImplementedError("the virtual sensor does not pair")

    async def unpair(self) -> None:
        """See ``pair``."""
        raise NotImplementedError("the virtual sensor does not pair")

    def _proxy(self, characteristic: BleakGATTCharacteristic) -> CharacteristicProxy[bytes]:
        """The bumble proxy behind a bleak characteristic, on a live link."""
        if self._connection is None:
            raise BleakError("not connected")
        return self._proxies[characteristic.handle]

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kwargs: Any) -> bytearray:
        """Read a characteristic value."""
        return bytearray(await self._proxy(characteristic).read_value())

    async def read_gatt_descriptor(self, *args: Any, **kwargs: Any) -> bytearray:
        """Descriptors are handled through start_notify; nothing in spinesense reads them."""
        raise NotImplementedError

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        """Write a characteristic value (with response when asked)."""
        await self._proxy(characteristic).write_value(bytes(data), with_response=response)

    async def write_gatt_descriptor(self, *args: Any, **kwargs: Any) -> None:
        """See ``read_gatt_descriptor``."""
        raise NotImplementedError

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: Callable[[bytearray], None], **kwargs: Any
    ) -> None:
        """Enable notifications (or indications) and hand each value to bleak's callback."""
        proxy = self._proxy(characteristic)
        prefer_notify = "notify" in characteristic.properties
        await proxy.subscribe(lambda value: callback(bytearray(value)), prefer_notify=prefer_notify)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        """Disable notifications."""
        await self._proxy(characteristic).unsubscribe()
