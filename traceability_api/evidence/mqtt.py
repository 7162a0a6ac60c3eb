"""Sensor readings over MQTT (a Mosquitto broker): devices publish to
``agritrace/sensors/<device id>/readings`` a JSON ``{"readings": [...], "sig": <hex HMAC-SHA256 of
the compact key-sorted JSON of readings>}``; the outcome is published to ``.../result``."""

from __future__ import annotations

import json
import logging
import threading
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from sqlalchemy.engine import Engine
from sqlmodel import Session

from traceability_api.config import Settings
from traceability_api.errors import DomainError
from traceability_api.evidence.sensors import authenticate_device, canonical_readings, ingest
from traceability_api.limits import parse_json_bounded

log = logging.getLogger(__name__)
TOPIC = "agritrace/sensors/+/readings"
SHARED = "$share/agritrace/" + TOPIC  # several API workers split the messages instead of each getting all


class MqttIngest:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        assert settings.mqtt_url
        self.engine, self.settings = engine, settings
        url = urlsplit(settings.mqtt_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 1883
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"agritrace-{id(self)}")  # type: ignore[attr-defined]
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: self.subscribed.set()

    def start(self) -> None:
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()

    def _on_connect(self, client: mqtt.Client, *_: object) -> None:
        client.subscribe(SHARED, qos=1)

    def handle(self, topic: str, payload: bytes) -> dict[str, object]:
        parts = topic.split("/")
        try:
            device_id = int(parts[2])
        except (IndexError, ValueError):
            return {"error": f"bad topic {topic}"}
        try:
            msg = parse_json_bounded(payload, self.settings.json_max_bytes, self.settings.json_max_depth)
            readings = msg["readings"]
            with Session(self.engine) as s:
                device = authenticate_device(s, self.settings, device_id, canonical_readings(readings), msg.get("sig"))
                result = ingest(s, device, readings, self.settings)
                s.commit()
            return result.json()
        except (ValueError, KeyError, TypeError):
            return {"error": "payload must be JSON {readings: [...], sig: ...}"}
        except DomainError as exc:
            return {"error": exc.message}

    def _on_message(self, client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        outcome = self.handle(message.topic, message.payload)  # type: ignore[arg-type]
        if "error" in outcome:
            log.warning("mqtt %s: %s", message.topic, outcome["error"])
        client.publish(message.topic.rsplit("/", 1)[0] + "/result", json.dumps(outcome), qos=1)
