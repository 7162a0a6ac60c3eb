"""Consumer pages and e-commerce embeds: Jinja2 templates rendering plain view models.

Imports nothing from ``chain``, ``labels`` or ``traceability_api``.
"""
