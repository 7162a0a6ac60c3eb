"""Labels: GS1 Digital Link URIs, QR codes, printable PDF label sheets, signed serial tokens.

Imports nothing from ``chain``, ``consumer_site`` or ``traceability_api``.
"""
