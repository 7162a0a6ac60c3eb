"""Imports every table so that SQLModel.metadata is complete (alembic, tests)."""

from traceability_api.anchoring.models import AnchorBatch, AnchorItem, ChainDeployment, WorkerLease
from traceability_api.authority.models import Recall, WriteLogEntry
from traceability_api.consumer.models import CounterfeitReport, ScanLog
from traceability_api.epcis_rest.models import CaptureJob, NamedQuery, Subscription
from traceability_api.events.models import Event, EventCorrection, EventLot
from traceability_api.evidence.models import Attachment, AttachmentOwner, Device, SensorReading
from traceability_api.lots.models import Lot, LotLink, Product, SerialUnit
from traceability_api.parties.models import ApiKey, Member, Organisation
from traceability_api.places.models import Place
from traceability_api.signing.models import SigningKey, SigningOrg

__all__ = [
    "AnchorBatch",
    "AnchorItem",
    "ApiKey",
    "Attachment",
    "AttachmentOwner",
    "CaptureJob",
    "NamedQuery",
    "Subscription",
    "WriteLogEntry",
    "Device",
    "SensorReading",
    "LotLink",
    "Recall",
    "ChainDeployment",
    "CounterfeitReport",
    "Event",
    "EventCorrection",
    "EventLot",
    "Lot",
    "Member",
    "ScanLog",
    "Organisation",
    "Place",
    "Product",
    "SerialUnit",
    "SigningKey",
    "SigningOrg",
    "WorkerLease",
]
