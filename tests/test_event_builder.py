"""The one builder of the events the service writes itself: its time-zone offset comes from a
zone (the service's AGRITRACE_TIME_ZONE, the farmer's own time, or the place), not a constant."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from traceability_api.config import Settings
from traceability_api.epcis.builder import object_event, zone_offset


def test_offset_follows_the_zone_and_its_daylight_saving() -> None:
    assert zone_offset(datetime(2025, 3, 1, tzinfo=UTC), ZoneInfo("Asia/Ho_Chi_Minh")) == "+07:00"
    ny = ZoneInfo("America/New_York")
    assert zone_offset("2025-01-15T12:00:00Z", ny) == "-05:00"
    assert zone_offset("2025-07-15T12:00:00Z", ny) == "-04:00"
    assert zone_offset("2025-07-15T12:00:00Z", ZoneInfo("Asia/Kolkata")) == "+05:30"
    assert zone_offset("not a time", ZoneInfo("Asia/Ho_Chi_Minh")) == "+07:00"  # capture reports the time


def test_object_event_shape() -> None:
    lot = "https://id.gs1.org/01/08930000010025/10/L1"
    ev = object_event("commissioning", ZoneInfo("Asia/Ho_Chi_Minh"), when="2025-03-01T09:00:00+07:00",
                      action="ADD", lot=lot, quantity=5.0, uom="KGM", disposition="active")  # fmt: skip
    assert ev == {
        "type": "ObjectEvent", "eventTime": "2025-03-01T09:00:00+07:00", "eventTimeZoneOffset": "+07:00",
        "action": "ADD", "bizStep": "commissioning", "disposition": "active",
        "quantityList": [{"epcClass": lot, "quantity": 5.0, "uom": "KGM"}],
    }  # fmt: skip
    now = object_event("holding", ZoneInfo("Asia/Ho_Chi_Minh"), lot=lot)
    assert now["quantityList"] == [{"epcClass": lot}] and now["action"] == "OBSERVE"
    assert datetime.fromisoformat(now["eventTime"]).tzinfo is not None


def test_an_unknown_time_zone_setting_is_refused() -> None:
    assert Settings(time_zone="Asia/Bangkok").zone == ZoneInfo("Asia/Bangkok")
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        Settings(time_zone="Mars/Olympus")
