"""The national traceability record (Circular 02/2024/TT-BKHCN, TCVN 12850:2019): a lot's record with
every mandatory item, the completeness check, and exports in ``agritrace-national-record/1``
(JSON and XML, schemas in ``schema/``).  Field mapping: docs/national-record.md."""
