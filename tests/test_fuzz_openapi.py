"""Fuzz the service's own OpenAPI with schemathesis: valid and invalid requests to every operation,
authenticated as an authority admin and a cooperative admin, must never get a 5xx."""

from __future__ import annotations

from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from schemathesis.generation import GenerationMode

from tests.world import make_world, setup_rice
from traceability_api.main import create_app
from traceability_api.runtime import Runtime

EXAMPLES = 12  # per operation and mode: ~60 operations x 2 modes x 12 stays well under 2 minutes


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str], failures: list[str]) -> None:
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
        suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate],
    )  # fmt: skip
    def run(case: Any) -> None:
        if case.headers:  # the declared Authorization / X-API-Key headers would replace our valid key
            case.headers = {k: v for k, v in case.headers.items() if k.lower() not in ("authorization", "x-api-key")}
        # a generous read timeout: a valid request for thousands of labels draws them in the request
        # (seconds on a loaded machine); a hang still fails the test, a slow answer is not a 5xx
        response = case.call(headers=headers, timeout=60)
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} {case.query} {str(case.body)[:200]} -> "
                            f"{response.status_code} {response.text[:200]}")  # fmt: skip

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        pass  # no way to make this operation's request invalid (nothing to vary)


@pytest.mark.slow
@pytest.mark.timeout(600)  # every operation of the API (80 and growing): ~4 min on a loaded 2-core machine
@pytest.mark.filterwarnings("ignore:Duplicate Operation ID")  # GET+HEAD page routes share one (consumer router)
def test_openapi_fuzz_gives_no_5xx(runtime: Runtime, app_client: TestClient) -> None:
    w = make_world(runtime, app_client)
    setup_rice(w)  # something to find: a product, a plot, a lot and its commissioning event
    app = create_app(runtime)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        for mode, org in ((GenerationMode.POSITIVE, w.coop), (GenerationMode.NEGATIVE, w.authority)):
            _fuzz(operation, mode, org.h(), failures)
    assert not failures, "\n".join(failures[:30])
