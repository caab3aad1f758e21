"""schemathesis against /openapi.json of the real server (uvicorn on loopback, demo-shop behind it): generated
requests, valid and invalid, must never get a 5xx, an undocumented status or content type, or a body that breaks
the declared response schema. Bounded (50 examples per operation, no deadline) so it fits in `make test`."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.server.conftest import bearer

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection, ignored_auth]
OPERATIONS = [("GET", "/healthz"), ("GET", "/metrics"), ("POST", "/v1/threads"), ("GET", "/v1/threads"),
              ("GET", "/v1/threads/{thread_id}"), ("POST", "/v1/threads/{thread_id}/messages"),
              ("GET", "/v1/approvals"), ("POST", "/v1/approvals/{thread_id}")]


@pytest.fixture(scope="module")
def api_schema(api):
    return schemathesis.openapi.from_url(f"{api.url}/openapi.json")


@pytest.fixture(scope="module")
def real_thread(api) -> str:
    """A thread the token owns, so generated requests also reach the turn and approval code, not only 404s."""
    with api.client() as c:
        return c.post("/v1/threads", json={}).json()["thread"]["thread_id"]


# (schemathesis' own pytest integration, `from_fixture` + `parametrize`, does not run under pytest 9: strategies
# with `given` are the documented way to use it outside that integration.)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=lambda v: v)
def test_api_conforms_to_its_schema(api, api_schema, real_thread, method, path, mode):
    if mode == GenerationMode.NEGATIVE and path in ("/healthz", "/metrics"):
        pytest.skip("no parameters or body: nothing to make invalid")
    operation = api_schema[path][method]
    strategy = operation.as_strategy(generation_mode=mode)
    if "{thread_id}" in path:  # half the examples name a thread this token owns
        strategy = st.one_of(strategy, operation.as_strategy(generation_mode=mode,
                                                             path_parameters={"thread_id": real_thread}))

    @given(case=strategy)
    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def check(case):
        case.call_and_validate(base_url=api.url, headers=bearer("ops-token"), checks=CHECKS)

    check()
