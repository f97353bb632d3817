"""Property-based run against the OpenAPI document (schemathesis): no input makes the server fail."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/openapi.json", app.server)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_error_for_any_generated_request(case, app):
    # half the cases carry a dispatcher key, so the write paths are reached as well as the 401s
    if case.headers is None or "X-API-Key" not in case.headers:
        case.headers = {**(case.headers or {}), "X-API-Key": app.dispatch_key}
    case.call_and_validate(checks=[not_a_server_error])
