"""schemathesis against the daemon's own OpenAPI schema (/openapi.json): no 5xx, responses as documented."""

from __future__ import annotations

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance


def test_openapi_schema_lists_the_api(live):
    schema = httpx.get(f"{live.d.url}/openapi.json", headers=live.d.auth(), timeout=10).json()
    assert {"/healthz", "/api/messages", "/api/home", "/api/tasks", "/api/tasks/{task_id}"} <= set(schema["paths"])
    assert set(schema["paths"]["/api/messages"]) == {"get", "post"}
    body = schema["paths"]["/api/messages"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    message = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert message["additionalProperties"] is False and message["required"] == ["text"]  # from the pydantic model


def test_every_operation_with_schemathesis(live):
    d = live.d
    schema = schemathesis.openapi.from_url(f"{d.url}/openapi.json", headers=d.auth())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 13  # health, messages (2), events, home, tools, tasks (7)
    # the live stream never ends by design: its refusals are tested in tests/test_live.py
    operations = [op for op in operations if op.path != "/api/events"]
    for operation in operations:
        before = live.count("inbox")

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            # half of the cases go without the token: those must be 401, never a 5xx
            headers = {"Authorization": f"Bearer {d.token}"} if hash(repr(case.body)) % 2 else {}
            response = case.call(base_url=d.url, headers=headers, timeout=60)
            case.validate_response(response, checks=[not_a_server_error, status_code_conformance])
            if not headers and case.path.startswith("/api/"):
                assert response.status_code == 401

        check()
        if operation.method.upper() == "GET":
            assert live.count("inbox") == before  # reads never write
    assert live.alive()
