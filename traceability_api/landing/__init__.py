"""The landing page ``/``: where the docs are, the demo lots, how to verify a lot."""
