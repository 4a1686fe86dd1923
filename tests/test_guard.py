"""The network guard: every refused address class, scheme and URL trick; rebinding; the allow-list."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

import httpcore
import pytest

from tests.fixture_web import FixtureWeb
from tools.errors import FetchError, RefusedURLError
from tools.web.fetch import Fetcher, FetchOptions
from tools.web.guard import AllowList, Resolver, address_problem, check_url, parse_ip
from tools.web.pinned import PinnedBackend
from tools.web.urls import dedupe_key, normalize_url


def resolving_to(*addresses: str) -> tuple[list[str], Resolver]:
    calls: list[str] = []

    def resolver(host: str) -> Sequence[str]:
        calls.append(host)
        return list(addresses)

    return calls, resolver


REFUSED = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "10.1.2.3": "private",
    "172.16.5.4": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "link-local",
    "100.64.0.1": "carrier-grade NAT",
    "100.127.255.254": "carrier-grade NAT",
    "224.0.0.251": "multicast",
    "239.255.255.250": "multicast",
    "0.0.0.0": "unspecified",
    "0.1.2.3": "reserved",
    "240.0.0.1": "reserved",
    "255.255.255.255": "reserved",
    "192.0.2.10": "reserved",
    "198.18.0.1": "reserved",
    "::1": "loopback",
    "::": "unspecified",
    "fe80::1": "link-local",
    "fc00::1": "private",
    "fd12:3456::1": "private",
    "ff02::1": "multicast",
    "2001:db8::1": "reserved",
    "::ffff:127.0.0.1": "IPv6 form of 127.0.0.1",
    "::ffff:169.254.169.254": "IPv6 form of 169.254.169.254",
    "::ffff:10.0.0.1": "IPv6 form of 10.0.0.1",
    "::127.0.0.1": "IPv6 form of 127.0.0.1",
    "64:ff9b::a00:1": "IPv6 form of 10.0.0.1",
    "64:ff9b::7f00:1": "IPv6 form of 127.0.0.1",
    "2002:a00:1::": "IPv6 form of 10.0.0.1",
    "2002:7f00:1::1": "IPv6 form of 127.0.0.1",
    "2001:0:4136:e378:8000:63bf:80ff:fffe": "IPv6 form of 127.0.0.1",  # Teredo, client obfuscated
}
GLOBAL = ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:82b::200e",
          "::ffff:93.184.216.34", "64:ff9b::808:808", "2002:808:808::1"]


@pytest.mark.parametrize(("address", "why"), sorted(REFUSED.items()))
def test_each_non_global_address_class_is_refused(address: str, why: str) -> None:
    problem = address_problem(ipaddress.ip_address(address))
    assert problem is not None and why in problem
    _calls, resolver = resolving_to(address)
    with pytest.raises(RefusedURLError, match=r"add it to fetch\.allow"):
        check_url("http://innocent.example/", resolver=resolver)


@pytest.mark.parametrize("address", GLOBAL)
def test_global_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None
    _calls, resolver = resolving_to(address)
    vetted = check_url("https://example.com/page", resolver=resolver)
    assert [ipaddress.ip_address(a) for a in vetted] == [ipaddress.ip_address(address)]


def test_every_resolved_address_must_be_global() -> None:
    _calls, resolver = resolving_to("93.184.216.34", "10.0.0.7")
    with pytest.raises(RefusedURLError, match=re.escape("10.0.0.7, a private address")):
        check_url("https://mixed.example/", resolver=resolver)


def test_no_address_is_refused() -> None:
    _calls, resolver = resolving_to()
    with pytest.raises(RefusedURLError, match="no address"):
        check_url("https://nothing.example/", resolver=resolver)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/", "http://[::1]:8080/", "http://0x7f.1/", "http://2130706433/", "http://017700000001/",
     "http://127.1/", "http://[::ffff:7f00:1]/", "http://169.254.169.254/latest/meta-data/", "http://0/"],
)
def test_ip_literals_in_any_spelling_are_checked_without_resolving(url: str) -> None:
    calls, resolver = resolving_to("93.184.216.34")
    with pytest.raises(RefusedURLError):
        check_url(url, resolver=resolver)
    assert calls == []


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/file", "not ftp"),
        ("file:///etc/passwd", "not file"),
        ("javascript:alert(1)", "not javascript"),
        ("data:text/html,<p>x</p>", "not data"),
        ("gopher://example.com/", "not gopher"),
        ("//example.com/path", "not no scheme"),
        ("http://user:secret@example.com/", "user name or password"),
        ("http://example.com@127.0.0.1/", "user name or password"),
        ("http://example.com\\@127.0.0.1/", "backslashes"),
        ("http://exa mple.com/", "whitespace"),
        ("http://example.com:99999/", "port"),
        ("http:///path-only", "no host"),
    ],
)
def test_schemes_and_authority_tricks_are_refused(url: str, why: str) -> None:
    calls, resolver = resolving_to("93.184.216.34")
    with pytest.raises(RefusedURLError, match=why):
        check_url(url, resolver=resolver)
    assert calls == []


def test_refusal_is_one_line() -> None:
    with pytest.raises(RefusedURLError) as info:
        check_url("http://10.0.0.1/admin")
    assert str(info.value) == (
        "Refused http://10.0.0.1/admin: 10.0.0.1 is a private address; add it to fetch.allow to permit it."
    )


def test_allow_list_opens_hosts_suffixes_and_networks() -> None:
    allow = AllowList.parse(["wiki.corp", ".intra.example", "10.0.0.0/8", "fd00::/8", "127.0.0.1", ""])
    _calls, private = resolving_to("10.20.30.40")
    assert check_url("http://wiki.corp/page", allow, private) == ["10.20.30.40"]
    assert check_url("http://docs.intra.example/", allow, private) == ["10.20.30.40"]
    assert check_url("http://anything.example/", allow, private) == ["10.20.30.40"]
    assert check_url("http://127.0.0.1:8000/", allow) == ["127.0.0.1"]
    _calls, other = resolving_to("192.168.0.5")
    with pytest.raises(RefusedURLError):
        check_url("http://printer.example/", allow, other)
    with pytest.raises(RefusedURLError):
        check_url("http://127.0.0.2/", allow)
    with pytest.raises(RefusedURLError):  # schemes are never opened by the allow-list
        check_url("file://wiki.corp/etc/passwd", allow, private)


def test_parse_ip_accepts_legacy_forms_only_for_numbers() -> None:
    assert parse_ip("0x7f.1") == ipaddress.ip_address("127.0.0.1")
    assert parse_ip("cafe1.be") is None and parse_ip("example.com") is None


async def test_unpinned_host_cannot_be_connected() -> None:
    with pytest.raises(httpcore.ConnectError, match="not checked by the network guard"):
        await PinnedBackend().connect_tcp("example.com", 80)


# ------------------------------------------------------------------ through the fetcher, on loopback
async def test_redirects_to_private_and_metadata_addresses_are_refused(fixture_web: FixtureWeb) -> None:
    fetcher = Fetcher(FetchOptions(allow=("127.0.0.1",), use_cache=False))
    for path, target in (("/redirect/private", "10.0.0.1"), ("/redirect/metadata", "169.254.169.254")):
        with pytest.raises(RefusedURLError, match=target):
            await fetcher.fetch(fixture_web.url(path))
    with pytest.raises(RefusedURLError, match="not file"):
        await fetcher.fetch(fixture_web.url("/redirect/file"))
    await fetcher.aclose()


async def test_redirect_to_a_name_resolving_privately_is_refused(fixture_web: FixtureWeb) -> None:
    names = {"start.test": ["127.0.0.1"], "intranet.test": ["10.9.8.7"]}
    fixture_web.add_page("/hop", b"", status=302, headers={"Location": "http://intranet.test/secret"})
    fetcher = Fetcher(FetchOptions(allow=("127.0.0.1",), use_cache=False, respect_robots=False),
                      resolver=lambda host: names[host])
    with pytest.raises(RefusedURLError, match=re.escape("intranet.test resolves to 10.9.8.7")):
        await fetcher.fetch(f"http://start.test:{fixture_web.port}/hop")
    await fetcher.aclose()


async def test_loopback_is_refused_without_the_allow_list(fixture_web: FixtureWeb) -> None:
    fetcher = Fetcher(FetchOptions(use_cache=False))
    with pytest.raises(RefusedURLError, match="loopback"):
        await fetcher.fetch(fixture_web.url("/"))
    assert fixture_web.requests == []
    await fetcher.aclose()


async def test_connection_goes_to_the_checked_address_with_the_host_name_kept(fixture_web: FixtureWeb) -> None:
    calls, resolver = resolving_to("127.0.0.1")
    fetcher = Fetcher(FetchOptions(allow=("127.0.0.1",), use_cache=False, respect_robots=False),
                      resolver=resolver)
    result = await fetcher.fetch(f"http://docs.fixture.test:{fixture_web.port}/plain.txt")
    assert result.status == 200 and calls == ["docs.fixture.test"]
    assert fixture_web.requests[-1].headers["Host"] == f"docs.fixture.test:{fixture_web.port}"
    await fetcher.aclose()


async def test_dns_rebinding_cannot_reach_what_the_check_refused(fixture_web: FixtureWeb) -> None:
    """First answer global (checked), second answer loopback: the connection must use the first."""
    answers = [["93.184.216.34"], ["127.0.0.1"]]
    asked: list[str] = []

    def rebinding(host: str) -> list[str]:
        asked.append(host)
        return answers[min(len(asked), 2) - 1]

    fetcher = Fetcher(FetchOptions(allow=(), use_cache=False, respect_robots=False, retries=0,
                                   connect_timeout_s=2), resolver=rebinding)
    with pytest.raises(FetchError, match="Could not fetch"):
        # The pinned connection goes to 93.184.216.34, which tests cannot reach (loopback only).
        await fetcher.fetch(f"http://rebind.test:{fixture_web.port}/plain.txt")
    assert asked == ["rebind.test"]  # resolved once, by the guard; never again by the HTTP stack
    assert fixture_web.requests == []  # the loopback server was never reached
    # A second fetch resolves again, gets the private answer and is refused outright.
    with pytest.raises(RefusedURLError, match="loopback"):
        await fetcher.fetch(f"http://rebind.test:{fixture_web.port}/plain.txt")
    assert fixture_web.requests == []
    await fetcher.aclose()


# ------------------------------------------------------------------ URL normalization
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("HTTPS://Example.COM/a/", "https://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/", "http://example.com"),
        ("https://example.com/a?utm_source=x&utm_medium=y&b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?gclid=1&fbclid=2#frag", "https://example.com/a"),
    ],
)
def test_normalize_url_folds_spellings(a: str, b: str) -> None:
    assert normalize_url(a) == normalize_url(b)
    assert normalize_url(normalize_url(a)) == normalize_url(a)


def test_normalize_url_keeps_meaningful_differences() -> None:
    assert normalize_url("https://example.com/a?id=1") != normalize_url("https://example.com/a?id=2")
    assert normalize_url("https://example.com/A") != normalize_url("https://example.com/a")
    assert normalize_url("https://example.com:8443/") != normalize_url("https://example.com/")
    assert normalize_url("not a url") == "not a url"
    assert dedupe_key("http://www.example.com/x") == dedupe_key("https://example.com/x/")
