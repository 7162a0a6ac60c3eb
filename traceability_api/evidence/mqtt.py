"""Sensor batches over MQTT (a Mosquitto broker).  A device publishes to
``<prefix>/sensors/<device id>/readings`` the JSON ``{"seq": n, "readings": [...], "sig": <hex
HMAC-SHA256 of canonical_batch>}``; the outcome goes to ``.../result``.  The service's workers
share one subscription (``$share/<group>/...``), so each message is handled once.

No payload can stop ingestion: every message is bounded before parsing, validated, and any
failure is counted, logged and answered; the network loop runs in a thread of ours that is
restarted if it ever fails, and ``health()`` tells ``/healthz`` whether it runs and is connected."""

from __future__ import annotations

import json
import logging
import ssl
import threading
import uuid
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from sqlalchemy.engine import Engine
from sqlmodel import Session

from traceability_api.config import Settings
from traceability_api.errors import DomainError, Invalid
from traceability_api.evidence.sensors import authenticate_device, canonical_batch, receive_batch
from traceability_api.limits import JsonRefused, JsonTooLarge, parse_json_bounded
from traceability_api.validation import db_id_of

log = logging.getLogger(__name__)
MAX_DEPTH = 8  # a batch nests 3 deep: {"readings": [{"ts": ..., "value": ...}]}


class MqttIngest:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        assert settings.mqtt_url
        self.engine, self.settings = engine, settings
        url = urlsplit(settings.mqtt_url)
        tls = url.scheme == "mqtts"
        self.host, self.port = url.hostname or "127.0.0.1", url.port or (8883 if tls else 1883)
        self.prefix = settings.mqtt_topic_prefix + "/sensors/"
        self.subscription = f"$share/{settings.mqtt_group}/{self.prefix}+/readings"
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"agritrace-{uuid.uuid4().hex[:12]}")  # type: ignore[attr-defined]
        self.connected, self.subscribed, self._stopping = threading.Event(), threading.Event(), threading.Event()
        if url.username:  # mqtt[s]://user:password@host (Mosquitto password file)
            self.client.username_pw_set(unquote(url.username), unquote(url.password) if url.password else None)
        if tls:  # server certificate checked against the system CAs or AGRITRACE_MQTT_CA_FILE
            ca = str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None
            self.client.tls_set(ca_certs=ca, cert_reqs=ssl.CERT_REQUIRED)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.counts = {"received": 0, "ingested": 0, "refused": 0, "failed": 0, "loop_restarts": 0}
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.client.connect_async(self.host, self.port, keepalive=30)
        self._thread = threading.Thread(target=self._run, name="mqtt-ingest", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self.client.disconnect()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        """The network loop (it reconnects by itself); should it ever fail, log and start it again."""
        while not self._stopping.is_set():
            try:
                self.client.loop_forever(retry_first_connection=True)
            except Exception:  # noqa: BLE001 - the loop must survive anything
                self.counts["loop_restarts"] += 1
                log.exception("mqtt loop failed; restarting it")
            self._stopping.wait(1.0)  # back off before the next attempt (returns at once on stop)

    def health(self) -> dict[str, Any]:
        alive = self._thread is not None and self._thread.is_alive()
        ok = alive and self.connected.is_set() and self.subscribed.is_set()
        return {"ok": ok, "enabled": True, "thread_alive": alive, "connected": self.connected.is_set(),
                "subscription": self.subscription, **self.counts}  # fmt: skip

    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, reason: Any, _p: object = None) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("mqtt connection to %s:%s refused: %s", self.host, self.port, reason)
            return
        self.connected.set()
        client.subscribe(self.subscription, qos=1)

    def _on_subscribe(self, _c: object, _u: object, _mid: object, reasons: list[Any], _p: object = None) -> None:
        if any(getattr(r, "is_failure", False) for r in reasons):
            log.error("mqtt broker refused the subscription %s: %s", self.subscription, reasons)
            return
        self.subscribed.set()

    def _on_disconnect(self, *_: object) -> None:
        self.connected.clear()
        self.subscribed.clear()

    def handle(self, topic: str, payload: bytes) -> dict[str, Any]:
        """One message's outcome: the ingest result, or ``{"error": reason}`` (never raises)."""
        try:
            device_id = self._device_of(topic)
            msg = parse_json_bounded(payload, self.settings.mqtt_max_bytes, MAX_DEPTH)
            if not isinstance(msg, dict):
                raise Invalid('payload must be a JSON object {"seq": n, "readings": [...], "sig": "<hex>"}')
            with Session(self.engine) as s:
                device = authenticate_device(s, self.settings, device_id, canonical_batch(msg), msg.get("sig"))
                result = receive_batch(s, self.settings, device, msg)
                s.commit()
            self.counts["ingested"] += 1
            return result.json()
        except DomainError as exc:
            self.counts["refused"] += 1
            return {"error": exc.message}
        except (JsonTooLarge, JsonRefused) as exc:  # too large, too deep, NaN, NUL: the bound it broke
            self.counts["refused"] += 1
            return {"error": f"payload refused: {exc}"}
        except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8: where the parser stopped
            self.counts["refused"] += 1
            why = f"{exc.__class__.__name__}: {str(exc)[:200]}"
            return {"error": f'payload is not a JSON object {{"seq", "readings", "sig"}}: {why}'}
        except Exception as exc:  # noqa: BLE001 - a database outage, a bug: count, log, keep going
            self.counts["failed"] += 1
            log.exception("mqtt message on %s failed", topic)
            return {"error": f"internal error ({exc.__class__.__name__}); the batch was not stored, send it again"}

    def _device_of(self, topic: str) -> int:
        middle = topic.removeprefix(self.prefix).removesuffix("/readings")
        if (device_id := db_id_of(middle)) is None:
            raise Invalid(f"bad topic {topic[:200]!r}: expected {self.prefix}<device id>/readings")
        return device_id

    def _on_message(self, client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        try:
            self.counts["received"] += 1
            outcome = self.handle(message.topic, message.payload)  # type: ignore[arg-type]
            if "error" in outcome:
                log.warning("mqtt %s: %s", message.topic[:200], outcome["error"])
            client.publish(message.topic.rsplit("/", 1)[0] + "/result", json.dumps(outcome), qos=1)
        except Exception:  # noqa: BLE001 - never let a message kill the network loop
            self.counts["failed"] += 1
            log.exception("mqtt message handling failed")
