"""A throwaway OpenLDAP slapd on free loopback ports, seeded with alice and bob.

``run_slapd`` serves plain ``ldap://``; ``run_tls_slapd`` also serves ``ldaps://`` and
offers StartTLS on ``ldap://``, with a server certificate from a throwaway CA that
``make_ca`` and ``issue_server_cert`` generate at test time.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .harness import free_port

LDAP_DIR = Path(__file__).resolve().parents[1] / "ldap"
PASSWORDS = {"alice": "alice-ldap-password", "bob": "bob-ldap-password"}
ADMIN_DN = "cn=admin,dc=example,dc=org"
ADMIN_PASSWORD = "adminpw"


@dataclass(frozen=True)
class ThrowawayCA:
    """A throwaway certificate authority: its key, its certificate and that certificate's PEM file."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    file: Path


@dataclass(frozen=True)
class TlsSlapd:
    """A slapd serving TLS: ``ldaps_uri``, and ``ldap_uri`` that offers StartTLS."""

    ldaps_uri: str
    ldap_uri: str
    ca: ThrowawayCA


def _hash(password: str) -> str:
    return subprocess.run(["slappasswd", "-s", password], check=True, capture_output=True, text=True).stdout.strip()


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(folder: Path, common_name: str) -> ThrowawayCA:
    """A new CA valid for a day, its certificate written to ``folder/<common_name>.pem``."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{common_name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return ThrowawayCA(key, cert, path)


def issue_server_cert(ca: ThrowawayCA, folder: Path,
                      names: Sequence[str] = ("127.0.0.1", "localhost")) -> tuple[Path, Path]:
    """A server certificate for ``names`` (IP addresses or host names) signed by ``ca``: (cert file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    alt_names: list[x509.GeneralName] = []
    for name in names:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt_names.append(x509.DNSName(name))
    cert = (x509.CertificateBuilder().subject_name(_name(names[0])).issuer_name(ca.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca.key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    return cert_file, key_file


@contextmanager
def _slapd(run: Path, listen: Sequence[str], tls_config: str = "") -> Iterator[None]:
    """Start slapd from ``tests/ldap`` listening on ``listen``; seed it over ``listen[0]``; stop it afterwards."""
    slapd = shutil.which("slapd") or ("/usr/sbin/slapd" if os.path.exists("/usr/sbin/slapd") else None)
    if slapd is None or shutil.which("ldapadd") is None:
        pytest.fail("slapd and ldap-utils are missing (scripts/setup-test-env.sh installs them)")
    (run / "ldap" / "db").mkdir(parents=True)
    conf = ((LDAP_DIR / "slapd.conf.in").read_text().replace("@RUN@", str(run))
            .replace("@ROOTPW@", _hash(ADMIN_PASSWORD)).replace("@TLS@", tls_config))
    (run / "ldap" / "slapd.conf").write_text(conf)
    started = subprocess.run([slapd, "-f", str(run / "ldap" / "slapd.conf"), "-h", " ".join(u + "/" for u in listen)],
                             capture_output=True, text=True)
    if started.returncode != 0:
        pytest.fail(f"slapd did not start: {started.stderr}")
    pid_file = run / "ldap" / "slapd.pid"
    try:
        for _ in range(200):
            probe = subprocess.run(["ldapsearch", "-x", "-H", listen[0], "-b", "", "-s", "base"], capture_output=True)
            if probe.returncode == 0:
                break
            time.sleep(0.05)
        else:
            pytest.fail("slapd did not answer")
        seed = (LDAP_DIR / "seed.ldif.in").read_text()
        seed = seed.replace("@ALICEPW@", _hash(PASSWORDS["alice"])).replace("@BOBPW@", _hash(PASSWORDS["bob"]))
        subprocess.run(["ldapadd", "-x", "-H", listen[0], "-D", ADMIN_DN, "-w", ADMIN_PASSWORD],
                       input=seed, text=True, check=True, capture_output=True)
        yield
    finally:
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass


@contextmanager
def run_slapd(tmp_path: Path) -> Iterator[str]:
    """Start a plain slapd (no TLS at all); yield its ldap:// URI; stop it afterwards."""
    uri = f"ldap://127.0.0.1:{free_port()}"
    with _slapd(tmp_path / "slapd", [uri]):
        yield uri


@contextmanager
def run_tls_slapd(tmp_path: Path, server_names: Sequence[str] = ("127.0.0.1", "localhost")) -> Iterator[TlsSlapd]:
    """Start slapd with a certificate for ``server_names`` from a fresh CA, on ldaps:// and
    on ldap:// with StartTLS (plain binds stay allowed there, so a client that skipped TLS
    would still get in: tests can tell); stop it afterwards."""
    run = tmp_path / "tls-slapd"
    ca = make_ca(run / "tls", "test-ldap-ca")
    cert_file, key_file = issue_server_cert(ca, run / "tls", server_names)
    tls_config = (f"TLSCACertificateFile {ca.file}\nTLSCertificateFile {cert_file}\n"
                  f"TLSCertificateKeyFile {key_file}\n")
    ldap_uri, ldaps_uri = f"ldap://127.0.0.1:{free_port()}", f"ldaps://127.0.0.1:{free_port()}"
    with _slapd(run, [ldap_uri, ldaps_uri], tls_config):
        yield TlsSlapd(ldaps_uri=ldaps_uri, ldap_uri=ldap_uri, ca=ca)
