"""The MQTT subscriber over TLS with a password (``mqtts://user:password@host``), against a real
Mosquitto started by the test with its own CA, server certificate and password file."""

from __future__ import annotations

import datetime as dt
import getpass
import ipaddress
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chain.node import free_port
from tests.cluster import wait_for
from traceability_api.config import Settings
from traceability_api.evidence.mqtt import MqttIngest

pytestmark = pytest.mark.skipif(shutil.which("mosquitto") is None, reason="needs the mosquitto binary")


def _cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name | None = None,
          signer: ec.EllipticCurvePrivateKey | None = None, ca: bool = False) -> x509.Certificate:  # fmt: skip
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = dt.datetime.now(dt.UTC)
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
         .not_valid_after(now + dt.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))  # fmt: skip
    if not ca:
        b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
    return b.sign(signer or key, hashes.SHA256())


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    ca_key, srv_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _cert("AgriTrace test CA", ca_key, ca=True)
    srv = _cert("127.0.0.1", srv_key, issuer=ca.subject, signer=ca_key)
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.crt").write_bytes(ca.public_bytes(pem))
    (tmp_path / "srv.crt").write_bytes(srv.public_bytes(pem))
    (tmp_path / "srv.key").write_bytes(srv_key.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL,
                                                             serialization.NoEncryption()))  # fmt: skip
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(tmp_path / "passwd"), "svc", "s3cret"], check=True)
    port = free_port()
    (tmp_path / "m.conf").write_text(
        f"user {getpass.getuser()}\nper_listener_settings false\nallow_anonymous false\n"
        f"password_file {tmp_path / 'passwd'}\n"
        f"listener {port} 127.0.0.1\ncafile {tmp_path / 'ca.crt'}\ncertfile {tmp_path / 'srv.crt'}\n"
        f"keyfile {tmp_path / 'srv.key'}\n"
    )
    proc = subprocess.Popen(["mosquitto", "-c", str(tmp_path / "m.conf")], stdout=subprocess.DEVNULL,
                            stderr=(tmp_path / "mosquitto.log").open("wb"))  # fmt: skip
    try:
        wait_for("mosquitto listening", lambda: _listening(port, proc), 20)
        yield port, tmp_path / "ca.crt"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _listening(port: int, proc: subprocess.Popen[bytes]) -> bool:
    assert proc.poll() is None, "mosquitto exited: see mosquitto.log"
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def ingest(url: str, ca: Path) -> MqttIngest:
    settings = Settings(mqtt_url=url, mqtt_ca_file=ca, database_url="sqlite://", chain_enabled=False)
    return MqttIngest(None, settings)  # type: ignore[arg-type]  # subscribing needs no database


def test_mqtts_with_password_subscribes_and_a_wrong_password_is_refused(tls_broker: tuple[int, Path]) -> None:
    port, ca = tls_broker
    good = ingest(f"mqtts://svc:s3cret@127.0.0.1:{port}", ca)
    bad = ingest(f"mqtts://svc:wrong@127.0.0.1:{port}", ca)
    good.start()
    bad.start()
    try:
        wait_for("subscribed over TLS", lambda: good.health()["ok"], 30)
        assert bad.health()["ok"] is False and not bad.connected.is_set()
    finally:
        good.stop()
        bad.stop()


def test_mqtt_url_must_name_mqtt_or_mqtts() -> None:
    with pytest.raises(ValueError, match="mqtt:// or mqtts://"):
        Settings(mqtt_url="http://127.0.0.1:1883")
