"""EPCIS 2.0 events: capture, authorisation by custody, corrections, query."""
