"""Every API operation fuzzed from its OpenAPI schema (schemathesis, positive and negative
cases, derandomized): no 5xx, and every answer has a documented status, content type and body."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from tradia.main import create_app
from tradia_testkit import make_settings

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Multipart carries strings only, so the schema's type violations cannot be expressed there (and
# FastAPI reads an empty form field as absent): invalid data must be refused for JSON bodies.
JSON_CHECKS = [*CONFORMANCE, negative_data_rejection]

# The schema is the app's own; the cases go to the live app (uvicorn thread + simulator).
schema = schemathesis.openapi.from_dict(create_app(make_settings("http://127.0.0.1:9")).openapi())


@schema.parametrize()
@settings(max_examples=50, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_operation(case: schemathesis.Case, app_url: str) -> None:
    checks = JSON_CHECKS if case.media_type == "application/json" else CONFORMANCE
    case.call_and_validate(base_url=app_url, checks=checks, timeout=30)
