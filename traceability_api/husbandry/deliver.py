"""Delivering one alert to one channel: a JSON ``POST`` to a webhook (through the SSRF guard, which
is checked again at send time: DNS may have changed) or an e-mail through the configured SMTP
server.  Failures are answered as text, never raised: the watcher keeps going.  ``post_webhook``
and ``send_mail`` are the service's one webhook and one e-mail sender (recall notices use them too):
their answer starts with ``webhook 2``, ``email sent`` or ``email skipped`` when nothing is left to retry."""

from __future__ import annotations

import json
import smtplib
from email.message import EmailMessage
from typing import Any

import httpx

from consumer_site import formatting as fmt
from consumer_site.i18n import SENSOR_LABELS
from traceability_api.config import Settings
from traceability_api.husbandry.models import AlertChannel
from traceability_api.netguard import UnsafeDestination, check_destination

TIMEOUT_S = 5.0


def deliver(channel: AlertChannel, payload: dict[str, Any], settings: Settings) -> str:
    if channel.kind == "webhook":
        return post_webhook(channel.target, payload, settings)
    return _email(channel.target, payload, settings)


def delivered(answer: str) -> bool:
    """Whether an answer of ``post_webhook`` / ``send_mail`` means there is nothing to retry."""
    return answer.startswith(("webhook 2", "email sent", "email skipped"))


def post_webhook(url: str, payload: dict[str, Any], settings: Settings) -> str:
    try:
        check_destination(url, settings.webhook_allow_private)
        r = httpx.post(url, json=payload, timeout=TIMEOUT_S, follow_redirects=False)
    except UnsafeDestination as exc:
        return f"webhook refused: {exc}"
    except httpx.HTTPError as exc:
        return f"webhook failed: {type(exc).__name__}"
    return f"webhook {r.status_code}"


def _reading(payload: dict[str, Any], key: str) -> str:
    """The alert's value or threshold as the pages write a reading: "2,5 mg/L", "9,2" (pH: no "C62")."""
    return fmt.quantity(payload[key], payload["uom"], "vi", "reading")


def subject(payload: dict[str, Any]) -> str:
    place = (payload.get("place") or {}).get("name") or "?"
    word = SENSOR_LABELS["vi"].get(str(payload["kind"]), str(payload["kind"]))
    side = "thấp" if payload["bound"] == "low" else "cao"
    return f"[AgriTrace] Cảnh báo {word} {side} tại {place}: {_reading(payload, 'value')}"


def _email(to: str, payload: dict[str, Any], settings: Settings) -> str:
    body = (
        f"{subject(payload)}\nNgưỡng / threshold: {_reading(payload, 'threshold')} ({payload['bound']})\n"
        f"Bắt đầu / since: {payload['startedAt']}\n\n" + json.dumps(payload, ensure_ascii=False, indent=1)
    )
    return send_mail(to, subject(payload), body, settings)


def send_mail(to: str, title: str, body: str, settings: Settings) -> str:
    """One plain-text e-mail through the configured SMTP server."""
    if not settings.smtp_host:
        return "email skipped: AGRITRACE_SMTP_HOST not set"
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = settings.smtp_from, to, title
    msg.set_content(body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user and settings.smtp_password:
                smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        return f"email failed: {type(exc).__name__}"
    return "email sent"
