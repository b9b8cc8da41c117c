"""The published OpenAPI document against the running service, by schemathesis.

Schemathesis reads the document the app serves and, for every operation, sends requests that fit it and
requests that break it. Every answer must keep the contract: never a server error, always a documented
status, content type and body. Random ids never name a real teleconsultation, so two more tests walk a real
one (created through the API) with generated changes and with the documented lifecycle.

Both BODY_VALIDATION modes are held to it: each publishes its own document (in `compatible`, unknown members are
allowed and integers may come as strings), and each run checks the app against the document it serves.

The app runs in-process over ASGI with its lifespan started, on the memory store and the memory video
provider, so nothing leaves the process; schemathesis stops the lifespan after each test.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from dependency_injector import providers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from adapters.memory.clock import FixedClock
from entrypoints.container import Container
from entrypoints.http.app import ServiceApp
from entrypoints.service_config import DEFAULT_CONFIG
from entrypoints.settings import BODY_VALIDATIONS, Settings, StoreSettings
from tests.builders import T0

MAX_EXAMPLES = 40
PARTICIPANT = {"miauserid": "doc-1"}
COMPLETE_ROSTER: dict[str, Any] = {
    "participants": {
        "number": 2,
        "data": [
            {"userId": "doc-1", "groups": ["doctor"], "fullName": "Joe Smith", "language": "it"},
            {"userId": "pat-1", "groups": ["patient"], "fullName": "Jane Doe", "language": "it"},
        ],
    },
    "start_date": "2030-02-22T15:30:00.000Z",
    "duration_in_seconds": 3600,
}

CLOCK = FixedClock(T0 - timedelta(days=1))


def _app(body_validation: str) -> Any:
    container = Container(
        settings=Settings(
            video_provider="memory",
            store=StoreSettings(backend="memory"),
            immutable_period=timedelta(minutes=10),
            body_validation=body_validation,
        ),
        service_config=DEFAULT_CONFIG,
    )
    container.clock.override(providers.Object(CLOCK))
    return ServiceApp(container)


# A body over the size limit is refused with 413, which schemathesis does not count as a refusal by default.
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429, "5xx"]
            }
        }
    }
)
SCHEMAS = {
    mode: schemathesis.openapi.from_asgi("/documentation/openapi.json", _app(mode), config=CONFIG)
    for mode in BODY_VALIDATIONS
}
MODES = pytest.mark.parametrize("mode", BODY_VALIDATIONS)
ROOM = "/teleconsultation/{roomId}"


def schema_valid_bodies_are_never_malformed(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    """Stands in for schemathesis' positive-data check, which counts every 400 as a wrongly refused request.

    A request the document allows may still break a business rule (a `{"error"}` body, e.g. no plus user),
    which no schema can express; but it must never be refused as malformed (a `{statusCode, error, message}`
    body): that would mean the document promises more than the validation accepts.
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    body = response.json()
    if isinstance(body, dict) and "statusCode" in body:
        raise AssertionError(f"a request the OpenAPI document allows was refused as malformed: {body['message']}")
    return None


def call_and_validate(case: schemathesis.Case[Any], headers: dict[str, str] | None = None) -> schemathesis.Response:
    return case.call_and_validate(
        headers=headers,
        excluded_checks=[positive_data_acceptance],
        additional_checks=[schema_valid_bodies_are_never_malformed],
    )


def create_teleconsultation(schema: schemathesis.BaseSchema) -> str:
    response = call_and_validate(schema["/teleconsultation"]["POST"].Case(body=COMPLETE_ROSTER))
    assert response.status_code == 201, response.text
    room_id: str = response.json()["roomId"]
    return room_id


def check_every_answer(case: schemathesis.Case[Any]) -> None:
    # A participant's id, so that a GET of a real teleconsultation would get past the identity check.
    case.headers.setdefault("miauserid", PARTICIPANT["miauserid"])
    call_and_validate(case)


@SCHEMAS["compatible"].parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_keeps_the_published_contract_of_compatible_bodies(case: schemathesis.Case[Any]) -> None:
    check_every_answer(case)


@SCHEMAS["strict"].parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_keeps_the_published_contract_of_strict_bodies(case: schemathesis.Case[Any]) -> None:
    check_every_answer(case)


@MODES
@given(data=st.data())
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_changes_to_a_real_teleconsultation_keep_the_contract(mode: str, data: st.DataObject) -> None:
    schema = SCHEMAS[mode]
    CLOCK.set(T0 - timedelta(days=1))
    room_id = create_teleconsultation(schema)
    mode = data.draw(st.sampled_from(list(schemathesis.GenerationMode)))
    patch = data.draw(schema[ROOM]["PATCH"].as_strategy(mode, path_parameters={"roomId": room_id}))
    changed = call_and_validate(patch).status_code == 204
    reader = data.draw(st.sampled_from(["doc-1", "pat-1", "stranger"]))
    CLOCK.set(data.draw(st.sampled_from([T0 - timedelta(days=1), T0])))
    read = call_and_validate(
        schema[ROOM]["GET"].Case(path_parameters={"roomId": room_id}, headers={"miauserid": reader})
    )
    # A successful change may have replaced the roster, and with it who may read.
    allowed = {401} if reader == "stranger" else {200, 401} if changed else {200}
    assert read.status_code in allowed, read.text


@MODES
def test_the_documented_lifecycle_keeps_the_published_contract(mode: str) -> None:
    schema = SCHEMAS[mode]
    CLOCK.set(T0 - timedelta(days=1))
    room_id = create_teleconsultation(schema)
    path = {"roomId": room_id}
    moved = schema[ROOM]["PATCH"].Case(path_parameters=path, body={"start_date": "2030-02-22T16:00:00.000Z"})
    assert call_and_validate(moved).status_code == 204
    CLOCK.set(T0 + timedelta(minutes=25))
    view = call_and_validate(schema[ROOM]["GET"].Case(path_parameters=path, headers=PARTICIPANT))
    assert view.status_code == 200
    assert view.json()["accessLinkURL"]
    locked = schema[ROOM]["PATCH"].Case(path_parameters=path, body={"duration_in_seconds": 1800})
    assert call_and_validate(locked).status_code == 409
    assert call_and_validate(schema[ROOM]["DELETE"].Case(path_parameters=path)).status_code == 204
    gone = call_and_validate(schema[ROOM]["GET"].Case(path_parameters=path, headers=PARTICIPANT))
    assert gone.status_code == 404


@MODES
@given(data=st.data())
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_problem_details_asked_for_are_published_too(mode: str, data: st.DataObject) -> None:
    case = data.draw(SCHEMAS[mode].as_strategy(schemathesis.GenerationMode.NEGATIVE))
    # Spelled as requests spells it: schemathesis merges its session's `Accept: */*` case-sensitively.
    response = call_and_validate(case, headers={"Accept": "application/problem+json"})
    if response.status_code >= 400:
        assert response.headers["content-type"] == ["application/problem+json"]
