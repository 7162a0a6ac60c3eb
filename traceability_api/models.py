"""Imports every table so that SQLModel.metadata is complete (alembic, tests)."""

from traceability_api.anchoring.models import AnchorBatch, AnchorItem, AnchorTree, ChainDeployment, WorkerLease
from traceability_api.authority.models import ReadOwner, Recall, WriteLogEntry
from traceability_api.consumer.models import CounterfeitReport, ScanLog
from traceability_api.epcis_rest.models import CaptureJob, NamedQuery, Subscription
from traceability_api.events.models import Event, EventCorrection, EventLot
from traceability_api.evidence.models import Attachment, AttachmentOwner, BannedSubstance, Device, SensorReading
from traceability_api.husbandry.models import (
    AlertChannel,
    AlertCursor,
    Animal,
    AnimalPlacement,
    PlaceThreshold,
    SensorAlert,
)
from traceability_api.idempotency.models import IdempotentRequest
from traceability_api.lots.models import Lot, LotLink, Product, SerialUnit
from traceability_api.opendata.models import OpenDataFile
from traceability_api.parties.models import ApiKey, Member, Organisation
from traceability_api.places.models import Place
from traceability_api.privacy.models import EventDisclosure, SharingGrant
from traceability_api.registries.models import Certificate, RegisteredCode
from traceability_api.signing.models import SigningKey, SigningOrg
from traceability_api.workspace.models import SignInFailure, WorkspaceInvite, WorkspaceLogin, WorkspaceSession

__all__ = [
    "OpenDataFile",
    "AnchorBatch",
    "AnchorItem",
    "AnchorTree",
    "ApiKey",
    "Attachment",
    "AttachmentOwner",
    "CaptureJob",
    "NamedQuery",
    "Subscription",
    "WriteLogEntry",
    "ReadOwner",
    "Device",
    "SensorReading",
    "LotLink",
    "Recall",
    "ChainDeployment",
    "CounterfeitReport",
    "Event",
    "EventDisclosure",
    "SharingGrant",
    "IdempotentRequest",
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
    "BannedSubstance",
    "AlertChannel",
    "AlertCursor",
    "Animal",
    "AnimalPlacement",
    "PlaceThreshold",
    "SensorAlert",
    "WorkspaceInvite",
    "WorkspaceLogin",
    "SignInFailure",
    "WorkspaceSession",
    "Certificate",
    "RegisteredCode",
]
