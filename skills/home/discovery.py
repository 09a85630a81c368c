"""Find home devices on the local network: SSDP, mDNS and a bounded TCP port probe.

Three independent passes run concurrently, each bounded in time (and the probe
in hosts and concurrency), because any one of them may be blocked on a given
network: multicast off (no SSDP/mDNS), or a device that only answers on TCP.
Results are merged per (kind, address) so a speaker found three ways is
reported once; the home skill adopts what it has a backend for (``ADOPTABLE``), and ``config_hint`` gives
the TOML lines for those who prefer config.toml.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass, field
from typing import Any

SSDP_ADDR = ("239.255.255.250", 1900)
MDNS_TYPES: dict[str, str] = {
    "_sonos._tcp.local.": "sonos",
    "_hue._tcp.local.": "hue",
    "_home-assistant._tcp.local.": "home-assistant",
    "_googlecast._tcp.local.": "googlecast",
    "_hap._tcp.local.": "homekit",
}
# Well-known ports probed over TCP, and what an open one most likely is.
PORTS: dict[int, str] = {1400: "sonos", 8123: "home-assistant", 80: "hue", 443: "hue", 8009: "googlecast"}
MAX_HOSTS = 1024  # never probe more addresses than this in one call
MAX_CONCURRENCY = 128
KINDS = ("sonos", "hue", "home-assistant", "googlecast", "homekit", "unknown")
ADOPTABLE = {"sonos": "sonos", "home-assistant": "homeassistant"}  # kind -> the home backend that runs it


@dataclass
class Found:
    """One device (or service) seen on the network."""

    kind: str  # one of KINDS
    name: str
    address: str
    port: int | None
    source: str  # "ssdp" | "mdns" | "tcp"
    detail: dict[str, Any] = field(default_factory=dict)


def config_hint(found: Found | list[Found]) -> str:
    """The TOML lines that would make claw use what was found (one block per kind)."""
    items = found if isinstance(found, list) else [found]
    blocks: list[str] = []
    sonos = sorted({f.address for f in items if f.kind == "sonos"}, key=_ip_key)
    if sonos:
        blocks.append("[home.sonos]\nhosts = [" + ", ".join(f'"{ip}"' for ip in sonos) + "]")
    for f in items:
        if f.kind == "home-assistant":
            block = f'[home.homeassistant]\nurl = "{ha_url(f.address, f.port)}"\ntoken = "..."  # a long-lived access token'
            if block not in blocks:
                blocks.append(block)
        elif f.kind in ("hue", "googlecast", "homekit", "unknown"):
            note = f"# {f.kind} at {f.address}" + (f":{f.port}" if f.port else "") + f" ({f.name}): "
            note += "add it to Home Assistant, then claw sees it through [home.homeassistant]"
            if note not in blocks:
                blocks.append(note)
    return "\n\n".join(blocks)


KIND_LABELS = {
    "sonos": "Sonos speaker",
    "hue": "Philips Hue bridge",
    "home-assistant": "Home Assistant",
    "googlecast": "Google Cast device",
    "homekit": "HomeKit accessory",
    "unknown": "device",
}


def report(found: list[Found], known: set[str] | frozenset[str] = frozenset(), how: str = "") -> str:
    """What was found, one line each (``known`` addresses marked as in use), and ``how`` to use the rest."""
    if not found:
        return ("Nothing found on the network. Multicast (SSDP/mDNS) may be blocked here, or [home.discovery] "
                "subnets limit the search; a speaker can still be added by address.")
    lines = [f"Found {len(found)}:"]
    for f in found:
        where = f.address + (f":{f.port}" if f.port else "")
        extra = f", {f.detail['model']}" if f.detail.get("model") else ""
        mark = " (in use)" if f.address in known else ""
        if f.kind not in ADOPTABLE:
            mark = " (no backend in claw: add it to Home Assistant, which claw then uses)"
        lines.append(f"- {KIND_LABELS.get(f.kind, f.kind)}: {f.name} at {where} (via {f.source}{extra}){mark}")
    if all(f.address in known or f.kind not in ADOPTABLE for f in found):
        lines += ["", "Nothing new to adopt."]
    elif how:
        lines += ["", how]
    return "\n".join(lines)


async def run_cli(
    settings: Any,
    timeout: float | None = None,
    subnets: list[str] | None = None,
    interfaces: list[str] | None = None,
    as_json: bool = False,
    adopting: bool = False,
) -> tuple[str, list[str]]:
    """``claw discover``: the text to print (or JSON) and the addresses a backend could adopt.

    ``settings`` is ``[home.discovery]``: its subnets and multicast switches apply unless options are given.
    Raises ``ValueError`` for a subnet that is not a network.
    """
    for cidr in subnets or []:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ValueError(f"--subnet {cidr!r} is not a network; expected CIDR such as 192.168.1.0/24") from None
    subnets = subnets or settings.subnets
    ssdp, mdns = settings.multicast(subnets)
    found = await discover(timeout=timeout or settings.timeout, subnets=subnets, interfaces=interfaces or settings.interfaces,
                           ssdp=ssdp, mdns=mdns, tcp=settings.probe, max_hosts=settings.max_hosts)
    addresses = [f.address for f in found if f.kind in ADOPTABLE]
    if as_json:
        import json
        from dataclasses import asdict

        text = json.dumps({"found": [asdict(f) for f in found], "config": config_hint(found)}, indent=2, default=str)
        return text, addresses
    how = "" if adopting else ("To use them: `claw discover --adopt` while claw serve runs, or say \"use them\" after "
                               "asking claw to find them; or add to config.toml:\n\n" + config_hint(found))
    return report(found, how=how), addresses


async def discover(
    timeout: float = 3.0,
    subnets: list[str] | None = None,
    ports: dict[int, str] | list[int] | None = None,
    ssdp: bool = True,
    mdns: bool = True,
    tcp: bool = True,
    interfaces: list[str] | None = None,
    max_hosts: int = MAX_HOSTS,
    concurrency: int = 64,
    log: Any = None,
) -> list[Found]:
    """Look for home devices for at most about ``timeout`` seconds.

    Args:
        timeout: overall time budget in seconds for each pass (they run concurrently).
        subnets: CIDRs to TCP-probe; default: this box's own IPv4 networks
            (each capped at a /24 around the address). Tests pass loopback.
        ports: ports to probe, as ``{port: kind}`` or a list (kinds from PORTS).
        ssdp: send an SSDP M-SEARCH and collect answers.
        mdns: browse the home service types with zeroconf.
        tcp: run the TCP connect probe.
        interfaces: IPv4 addresses for mDNS/SSDP (default: all); tests use ``["127.0.0.1"]``.
        max_hosts: cap on probed addresses (the rest are skipped and logged).
        concurrency: simultaneous TCP connects (capped at MAX_CONCURRENCY).
        log: optional structlog-style logger.
    """
    port_map = _port_map(ports)
    passes: list[Any] = []
    if ssdp:
        passes.append(_ssdp(timeout, interfaces, log))
    if mdns:
        passes.append(_mdns(timeout, interfaces, log))
    if tcp:
        hosts = _hosts(subnets, max_hosts, log)
        passes.append(_probe(hosts, port_map, timeout, min(concurrency, MAX_CONCURRENCY), log))
    results = await asyncio.gather(*passes, return_exceptions=True)
    found: list[Found] = []
    for res in results:
        if isinstance(res, BaseException):
            if log is not None:
                log.warning("discover.pass_failed", error=repr(res))
            continue
        found.extend(res)
    return _merge(found)


# ---- merging ------------------------------------------------------------------------------

_SOURCE_RANK = {"mdns": 0, "ssdp": 1, "tcp": 2}


def _merge(found: list[Found]) -> list[Found]:
    """One entry per (kind, address): the most descriptive source wins, the others are noted."""
    best: dict[tuple[str, str], Found] = {}
    for f in sorted(found, key=lambda f: _SOURCE_RANK.get(f.source, 9)):
        key = (f.kind, f.address)
        if key in best:
            best[key].detail.setdefault("also_seen_by", [])
            if f.source not in best[key].detail["also_seen_by"] and f.source != best[key].source:
                best[key].detail["also_seen_by"].append(f.source)
        else:
            best[key] = f
            f.name = clean_name(f.name) or f.address
    return sorted(best.values(), key=lambda f: (f.kind, _ip_key(f.address), f.port or 0))


def clean_name(name: str) -> str:
    """A name a device announced, fit to store and show: printable, one line, at most 64 characters."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in name).split())[:64]


def ha_url(address: str, port: int | None) -> str:
    port = port or 8123
    return f"{'https' if port == 443 else 'http'}://{address}:{port}"


def _ip_key(address: str) -> tuple[int, str]:
    try:
        return (int(ipaddress.ip_address(address)), address)
    except ValueError:
        return (1 << 129, address)


# ---- TCP probe ------------------------------------------------------------------------------


def _port_map(ports: dict[int, str] | list[int] | None) -> dict[int, str]:
    if ports is None:
        return dict(PORTS)
    if isinstance(ports, dict):
        return {int(p): k for p, k in ports.items()}
    return {int(p): PORTS.get(int(p), "unknown") for p in ports}


def local_subnets() -> list[str]:
    """This box's IPv4 networks (loopback and link-local excluded), each at most a /24."""
    import ifaddr

    nets: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if not isinstance(ip.ip, str):
                continue
            addr = ipaddress.IPv4Address(ip.ip)
            if addr.is_loopback or addr.is_link_local:
                continue
            prefix = max(int(ip.network_prefix), 24)
            net = str(ipaddress.IPv4Network(f"{addr}/{prefix}", strict=False))
            if net not in nets:
                nets.append(net)
    return nets


def _hosts(subnets: list[str] | None, max_hosts: int, log: Any) -> list[str]:
    nets = subnets if subnets is not None else local_subnets()
    out: list[str] = []
    for cidr in nets:
        net = ipaddress.ip_network(cidr, strict=False)
        hosts = [net.network_address] if net.num_addresses == 1 else net.hosts()
        for host in hosts:
            if len(out) >= max_hosts:
                if log is not None:
                    log.warning("discover.hosts_capped", max_hosts=max_hosts, subnets=nets)
                return out
            out.append(str(host))
    return out


async def _probe(hosts: list[str], ports: dict[int, str], timeout: float, concurrency: int, log: Any) -> list[Found]:
    """TCP connect to each host:port, at most ``concurrency`` at a time, all within ``timeout``."""
    gate = asyncio.Semaphore(max(1, concurrency))
    per_try = min(1.0, max(0.2, timeout / 3))
    found: list[Found] = []

    async def one(host: str, port: int) -> None:
        async with gate:
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), per_try)
            except (TimeoutError, OSError):
                return
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass
        kind = ports[port]
        detail: dict[str, Any] = {}
        name = f"{host}:{port}"
        if kind == "sonos":
            info = await _sonos_description(host, port, per_try)
            if info is None:
                kind = "unknown"
            else:
                detail = info
                name = info.get("room") or name
        found.append(Found(kind, name, host, port, "tcp", detail))

    tasks = [asyncio.create_task(one(h, p)) for h in hosts for p in ports]
    if tasks:
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending and log is not None:
            log.info("discover.tcp_timeout", unfinished=len(pending))
        await asyncio.gather(*pending, return_exceptions=True)
    return found


async def _sonos_description(host: str, port: int, timeout: float) -> dict[str, Any] | None:
    """Confirm a Sonos player by its UPnP device description (room and model)."""
    try:
        body = await asyncio.wait_for(_http_get(host, port, "/xml/device_description.xml"), timeout)
    except (TimeoutError, OSError, ValueError):
        return None
    if b"Sonos" not in body:
        return None
    text = body.decode("utf-8", "replace")

    def tag(name: str) -> str | None:
        m = re.search(rf"<{name}>([^<]*)</{name}>", text)
        return m.group(1) if m else None

    return {"room": tag("roomName"), "model": tag("modelName"), "uid": (tag("UDN") or "").removeprefix("uuid:") or None}


async def _http_get(host: str, port: int, path: str) -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        data = await reader.read(65536)
        while chunk := await reader.read(65536):
            data += chunk
            if len(data) > 1 << 20:
                break
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/") or b" 200 " not in head.split(b"\r\n", 1)[0] + b" ":
        raise ValueError("not a 200 response")
    return body


# ---- SSDP -------------------------------------------------------------------------------------


class _SsdpProtocol(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.replies: list[tuple[dict[str, str], str]] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        lines = data.decode("utf-8", "replace").split("\r\n")
        if not lines or not lines[0].startswith("HTTP/1.1 200"):
            return
        headers = {}
        for line in lines[1:]:
            key, sep, value = line.partition(":")
            if sep:
                headers[key.strip().lower()] = value.strip()
        self.replies.append((headers, addr[0]))

    def error_received(self, exc: Exception) -> None:  # ICMP errors etc.: ignore
        return


async def _ssdp(timeout: float, interfaces: list[str] | None, log: Any) -> list[Found]:
    """One M-SEARCH for all devices per interface, then collect unicast answers until the timeout."""
    loop = asyncio.get_running_loop()
    mx = max(1, min(3, int(timeout)))
    search = (
        "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
        f"MX: {mx}\r\nST: ssdp:all\r\n\r\n"
    ).encode()
    sources: list[str | None] = [*interfaces] if interfaces else [None]  # None: the default interface
    transports = []
    protocols: list[_SsdpProtocol] = []
    for iface in sources:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        try:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
            if iface:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(iface))
            sock.bind((iface or "", 0))
            sock.setblocking(False)
            transport, protocol = await loop.create_datagram_endpoint(_SsdpProtocol, sock=sock)
        except OSError as err:
            sock.close()
            if log is not None:
                log.info("discover.ssdp_unavailable", interface=iface, error=str(err))
            continue
        transports.append(transport)
        protocols.append(protocol)
        for _ in range(2):
            try:
                transport.sendto(search, SSDP_ADDR)
            except OSError as err:
                if log is not None:
                    log.info("discover.ssdp_send_failed", interface=iface, error=str(err))
    try:
        if transports:
            await asyncio.sleep(timeout)
    finally:
        for transport in transports:
            transport.close()
    found: list[Found] = []
    for protocol in protocols:
        for headers, addr in protocol.replies:
            found.append(_from_ssdp(headers, addr))
    return found


def _from_ssdp(headers: dict[str, str], addr: str) -> Found:
    server = headers.get("server", "")
    st = headers.get("st", "")
    location = headers.get("location", "")
    m = re.match(r"https?://([^/:]+)(?::(\d+))?", location)
    host = addr  # the answer's sender: LOCATION is the device's word and may point anywhere
    port = int(m.group(2)) if m and m.group(2) and m.group(1) == addr else None
    low = f"{server} {st} {location}".lower()
    if "sonos" in low or "zoneplayer" in low:
        kind = "sonos"
    elif "ipbridge" in low or "hue" in low or "hue-bridgeid" in headers:
        kind = "hue"
    elif "home assistant" in low or "homeassistant" in low:
        kind = "home-assistant"
    elif "dial-multiscreen" in low or "chromecast" in low:
        kind = "googlecast"
    else:
        kind = "unknown"
    name = server or st or host
    return Found(kind, name, host, port, "ssdp", {"location": location, "st": st, "server": server,
                                                  "usn": headers.get("usn", "")})


# ---- mDNS -------------------------------------------------------------------------------------


async def _mdns(timeout: float, interfaces: list[str] | None, log: Any) -> list[Found]:
    """Browse the home service types; resolve each service found to an address and port."""
    from zeroconf import IPVersion, ServiceStateChange
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

    kwargs: dict[str, Any] = {"ip_version": IPVersion.V4Only}
    if interfaces:
        kwargs["interfaces"] = interfaces
    try:
        azc = AsyncZeroconf(**kwargs)
    except OSError as err:
        if log is not None:
            log.info("discover.mdns_unavailable", error=str(err))
        return []
    seen: dict[str, str] = {}

    def on_change(zeroconf: Any, service_type: str, name: str, state_change: Any) -> None:
        if state_change is not ServiceStateChange.Removed:
            seen[name] = service_type

    browser = AsyncServiceBrowser(azc.zeroconf, list(MDNS_TYPES), handlers=[on_change])
    found: list[Found] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        resolved: set[str] = set()
        while True:
            for name, service_type in list(seen.items()):
                if name in resolved:
                    continue
                resolved.add(name)
                info = AsyncServiceInfo(service_type, name)
                left = max(0.2, deadline - loop.time())
                try:
                    if await info.async_request(azc.zeroconf, int(min(left, 3.0) * 1000)):
                        found.append(_from_mdns(info, service_type))
                except (OSError, ValueError, AttributeError) as err:
                    if log is not None:
                        log.info("discover.mdns_resolve_failed", name=name, error=str(err))
            if loop.time() >= deadline:
                break
            await asyncio.sleep(min(0.1, max(0.0, deadline - loop.time())))
    finally:
        await browser.async_cancel()
        await azc.async_close()
    return found


def _from_mdns(info: Any, service_type: str) -> Found:
    kind = MDNS_TYPES.get(service_type, "unknown")
    addresses = info.parsed_addresses()  # all versions
    v4 = [a for a in addresses if ":" not in a]
    address = (v4 or addresses or [str(info.server or "").rstrip(".")])[0]
    instance = info.name[: -len(service_type) - 1] if info.name.endswith("." + service_type) else info.name
    props = {
        (k.decode("utf-8", "replace") if isinstance(k, bytes) else str(k)):
        (v.decode("utf-8", "replace") if isinstance(v, bytes) else v)
        for k, v in (info.properties or {}).items()
    }
    return Found(kind, instance, address, info.port, "mdns",
                 {"service_type": service_type, "server": info.server, "properties": props})
