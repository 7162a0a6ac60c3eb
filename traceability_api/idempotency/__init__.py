"""Idempotency keys for writes: a replay of a request with the same ``Idempotency-Key`` (per
organisation) answers the first response; the same key with a different request is refused (422);
concurrent replays store once (one row per key, inserted before the request runs)."""
