"""The network guard: which URLs Quarry may fetch, and which addresses it may connect to.

Guarantees: ``check_url`` returns only after the URL's scheme is http or https, it carries no
userinfo or other authority tricks, and *every* address its host resolves to is a global unicast
address (or is opened explicitly by the allow-list). Loopback, private, link-local (including the
cloud metadata address 169.254.169.254), carrier-grade NAT (100.64.0.0/10), multicast, unspecified,
reserved and documentation ranges are refused, and so are the IPv6 forms that embed one of them
(IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo). The caller must connect to one of the returned
addresses (``tools.web.fetch`` pins its connections to them), so a DNS answer that changes between the
check and the connection (rebinding) cannot reach anything the check refused.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from tools.errors import RefusedURLError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str], Sequence[str]]

SCHEMES = ("http", "https")

# Ranges Python's ``is_global`` already refuses are listed again where the classification changed
# between Python versions, so the guard does not depend on the interpreter's table.
_NOT_GLOBAL_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    )
)
_NOT_GLOBAL_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/128", "::1/128", "100::/64", "2001:db8::/32", "2001:10::/28", "2001:20::/28",
        "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    )
)
# Special-purpose ranges (this-network, documentation, benchmarking, IETF) named "reserved" in messages.
_RESERVED = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
        "100::/64", "2001:db8::/32", "2001:10::/28", "2001:20::/28",
    )
)
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


@dataclass(frozen=True)
class AllowList:
    """Hosts and networks the guard lets through although they are not global."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """Build from settings entries: host names, IP addresses or CIDR networks."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        """True when ``host`` (or a parent domain written as ``.example.com``) is listed."""
        host = host.lower().rstrip(".")
        if host in self.hosts:
            return True
        return any(h.startswith(".") and (host.endswith(h) or host == h[1:]) for h in self.hosts)

    def allows_address(self, ip: IPAddress) -> bool:
        """True when ``ip`` lies in a listed network."""
        return any(ip.version == net.version and ip in net for net in self.networks)


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo client)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    packed = ip.packed
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(packed[-4:])
    if packed[:12] == bytes(12) and int(ip) > 1:  # IPv4-compatible ::a.b.c.d (deprecated)
        return ipaddress.IPv4Address(packed[-4:])
    return None


def address_problem(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a global unicast address, or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "a scoped IPv6 address"
        inner = _embedded_v4(ip)
        if inner is not None:
            problem = address_problem(inner)
            return f"an IPv6 form of {inner}, {problem}" if problem else None
        if any(ip in net for net in _NOT_GLOBAL_V6) or not ip.is_global:
            return _describe(ip)
        return None
    if any(ip in net for net in _NOT_GLOBAL_V4) or not ip.is_global:
        return _describe(ip)
    return None


def _describe(ip: IPAddress) -> str:
    checks = (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
    )
    for attr, text in checks:
        if getattr(ip, attr):
            return text
    if isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.IPv4Network("100.64.0.0/10"):
        return "a carrier-grade NAT address"
    if ip.is_reserved or any(ip.version == net.version and ip in net for net in _RESERVED):
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    return "a reserved address"


def parse_ip(host: str) -> IPAddress | None:
    """``host`` as an IP address when it is one, including legacy IPv4 forms like ``0x7f.1``."""
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if text and all(c in "0123456789abcdefABCDEFxX." for c in text) and any(c.isdigit() for c in text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def split_url(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of ``url`` after the scheme and authority rules; refuses otherwise."""
    if any(ch in url for ch in "\\\t\r\n ") or any(ord(ch) < 32 for ch in url):
        raise RefusedURLError(f"Refused {url!r}: it contains whitespace, control characters or backslashes.")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        shown = scheme or "no scheme"
        raise RefusedURLError(f"Refused {url}: only http and https URLs are fetched, not {shown}.")
    if "@" in parts.netloc:
        raise RefusedURLError(f"Refused {url}: URLs with a user name or password are not fetched.")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise RefusedURLError(f"Refused {url}: its port is not a valid number.") from exc
    if not host:
        raise RefusedURLError(f"Refused {url}: it names no host.")
    try:
        host = httpx.URL(url).raw_host.decode("ascii")  # IDNA-encoded, as the connection will use it
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise RefusedURLError(f"Refused {url}: its host name is not valid ({exc}).") from exc
    return scheme, host.rstrip(".").lower(), port or (443 if scheme == "https" else 80)


def system_resolver(host: str) -> list[str]:
    """Every address the system resolver returns for ``host`` (A and AAAA)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedURLError(f"Refused {host}: the name does not resolve ({exc}).") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _vet(url: str, host: str, addresses: Sequence[str], allow: AllowList) -> list[str]:
    if not addresses:
        raise RefusedURLError(f"Refused {url}: {host} resolves to no address.")
    host_allowed = allow.allows_host(host)
    vetted: list[str] = []
    for text in addresses:
        ip = parse_ip(text)
        if ip is None:
            raise RefusedURLError(f"Refused {url}: the resolver returned {text!r}, which is not an address.")
        problem = address_problem(ip)
        if problem and not (host_allowed or allow.allows_address(ip)):
            where = f"{host} is" if parse_ip(host) == ip else f"{host} resolves to {ip},"
            raise RefusedURLError(f"Refused {url}: {where} {problem}; add it to fetch.allow to permit it.")
        vetted.append(str(ip))
    return vetted


def check_url(url: str, allow: AllowList | Iterable[str] = (), resolver: Resolver | None = None) -> list[str]:
    """The vetted addresses to connect to for ``url``; raises ``RefusedURLError`` when refused."""
    allow_list = allow if isinstance(allow, AllowList) else AllowList.parse(allow)
    _scheme, host, _port = split_url(url)
    literal = parse_ip(host)
    addresses = [str(literal)] if literal is not None else list((resolver or system_resolver)(host))
    return _vet(url, host, addresses, allow_list)


async def acheck_url(url: str, allow: AllowList, resolver: Resolver | None = None) -> list[str]:
    """``check_url`` for async callers: name resolution runs in a worker thread."""
    _scheme, host, _port = split_url(url)
    literal = parse_ip(host)
    if literal is not None:
        return _vet(url, host, [str(literal)], allow)
    addresses = await asyncio.to_thread(resolver or system_resolver, host)
    return _vet(url, host, list(addresses), allow)
