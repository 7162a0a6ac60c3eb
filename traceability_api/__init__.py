"""AgriTrace core: domain model, services, FastAPI routers, anchoring worker and CLI.

The only package that composes ``chain``, ``labels`` and ``consumer_site``.
"""
