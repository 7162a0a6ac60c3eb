"""The GS1 EPCIS 2.0 REST binding under ``/epcis`` (capture jobs, queries, top-level resources,
named queries and subscriptions), served by the same capture and query services as ``/api/v1``."""
