"""HTTPS through the pinned transport: the connection goes to the checked address while TLS (SNI and
the certificate's host name) still uses the URL's host, so pinning never weakens certificate checks."""

from __future__ import annotations

import datetime
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.fixture_web import FixtureWeb
from tools.errors import FetchError
from tools.web.fetch import Fetcher, FetchOptions


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _cert(subject: str, issuer: str, key: ec.EllipticCurvePrivateKey, signer: ec.EllipticCurvePrivateKey,
          *, ca: bool, sans: list[str]) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False), critical=True)
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False)
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    """A private CA and two leaf certificates (secure.test, other.test) as PEM files."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("Quarry Test CA", "Quarry Test CA", ca_key, ca_key, ca=True, sans=[])
    paths = {"ca": tmp_path / "ca.pem"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for host in ("secure.test", "other.test"):
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = _cert(host, "Quarry Test CA", key, ca_key, ca=False, sans=[host])
        pem = leaf.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        paths[host] = tmp_path / f"{host}.pem"
        paths[host].write_bytes(pem)
    return paths


@contextmanager
def _https_web(cert: Path, seen_names: list[str | None]) -> Iterator[FixtureWeb]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert)
    context.sni_callback = lambda _sock, name, _ctx: seen_names.append(name)
    web = FixtureWeb(tls=context).start()
    try:
        yield web
    finally:
        web.stop()


def _fetcher(ca: Path) -> Fetcher:
    options = FetchOptions(allow=("127.0.0.1",), use_cache=False, respect_robots=False, ca_file=ca,
                           deadline_s=10, retries=0)
    return Fetcher(options, resolver=lambda host: ["127.0.0.1"])


async def test_https_to_a_pinned_address_keeps_sni_and_hostname_checks(pki: dict[str, Path]) -> None:
    names: list[str | None] = []
    with _https_web(pki["secure.test"], names) as web:
        fetcher = _fetcher(pki["ca"])
        result = await fetcher.fetch(f"https://secure.test:{web.port}/plain.txt")
        assert result.status == 200 and result.text == "Plain text notes about tandem cells.\n"
        assert names == ["secure.test"]  # SNI carried the URL's host, not the pinned address
        assert web.requests[-1].headers["Host"] == f"secure.test:{web.port}"
        await fetcher.aclose()


async def test_certificate_for_another_host_is_rejected(pki: dict[str, Path]) -> None:
    names: list[str | None] = []
    with _https_web(pki["other.test"], names) as web:
        fetcher = _fetcher(pki["ca"])
        with pytest.raises(FetchError, match=r"Could not fetch https://secure\.test"):
            await fetcher.fetch(f"https://secure.test:{web.port}/plain.txt")
        assert web.requests == []
        await fetcher.aclose()


async def test_untrusted_certificate_is_rejected(pki: dict[str, Path], tmp_path: Path) -> None:
    names: list[str | None] = []
    with _https_web(pki["secure.test"], names) as web:
        options = FetchOptions(allow=("127.0.0.1",), use_cache=False, respect_robots=False, retries=0)
        fetcher = Fetcher(options, resolver=lambda host: ["127.0.0.1"])  # no private CA configured
        with pytest.raises(FetchError):
            await fetcher.fetch(f"https://secure.test:{web.port}/plain.txt")
        await fetcher.aclose()
