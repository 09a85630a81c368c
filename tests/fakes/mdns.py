"""An mDNS service registered on the loopback interface, for discovery tests.

Multicast over ``lo`` works in this sandbox (and on Linux generally) when both
sides bind zeroconf to 127.0.0.1 explicitly: ``Zeroconf(interfaces=["127.0.0.1"],
ip_version=IPVersion.V4Only)`` sets IP_MULTICAST_IF to 127.0.0.1 and joins
224.0.0.251 there, even though ``lo`` does not carry the MULTICAST flag. The
browser must use the same interface (``discover(interfaces=["127.0.0.1"])``);
nothing leaves the box.

The sync ``Zeroconf`` runs its own event-loop thread only when created outside
a running loop, so ``start()`` builds and registers it in a worker thread;
from async tests call ``await asyncio.to_thread(service.start)``.
"""

from __future__ import annotations

import socket
import threading

from zeroconf import IPVersion, ServiceInfo, Zeroconf


class FakeMdnsService:
    """``FakeMdnsService("_sonos._tcp.local.", "Kitchen", "127.0.0.2", 1400).start()`` ... ``.stop()``."""

    def __init__(
        self,
        service_type: str = "_sonos._tcp.local.",
        name: str = "Kitchen",
        address: str = "127.0.0.2",
        port: int = 1400,
        properties: dict[str, str] | None = None,
        interface: str = "127.0.0.1",
    ) -> None:
        self.service_type = service_type
        self.name = name
        self.address = address
        self.port = port
        self.properties = properties or {"info": "/api/v1/players/RINCON_000E58FA000201400/info", "vers": "3"}
        self.interface = interface
        self._zc: Zeroconf | None = None
        self.info = ServiceInfo(
            service_type,
            f"{name}.{service_type}",
            addresses=[socket.inet_aton(address)],
            port=port,
            properties=self.properties,
            server=f"{name.lower().replace(' ', '-')}-fake.local.",
        )

    def start(self) -> FakeMdnsService:
        def run() -> None:
            zc = Zeroconf(interfaces=[self.interface], ip_version=IPVersion.V4Only)
            try:
                zc.register_service(self.info)
            except BaseException:
                zc.close()
                raise
            self._zc = zc

        errors: list[BaseException] = []

        def guarded() -> None:
            try:
                run()
            except BaseException as err:  # surfaced in the caller's thread below
                errors.append(err)

        thread = threading.Thread(target=guarded, name="fake-mdns", daemon=True)
        thread.start()
        thread.join(15)
        if errors:
            raise errors[0]
        if self._zc is None:
            raise RuntimeError("mDNS registration on 127.0.0.1 did not finish")
        return self

    def stop(self) -> None:
        zc, self._zc = self._zc, None
        if zc is None:
            return

        def run() -> None:
            zc.unregister_service(self.info)
            zc.close()

        thread = threading.Thread(target=run, name="fake-mdns-stop", daemon=True)
        thread.start()
        thread.join(10)
