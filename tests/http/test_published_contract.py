"""What the OpenAPI document promises and the HTTP answers that schemathesis found at odds with it."""

from __future__ import annotations

from typing import Any

from adapters.memory.clock import FixedClock
from entrypoints.settings import STRICT_BODIES
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import body, doctor, patient
from tests.http.conftest import Client, kaleyra_settings, serve


async def document(client: Client) -> dict[str, Any]:
    response = await client.get("/documentation/openapi.json")
    assert response.status_code == 200
    served: dict[str, Any] = response.json()
    assert (await client.get("/documentation/json")).json() == served
    return served


async def test_bodies_that_refuse_unknown_fields_say_so(fake_kaleyra: FakeKaleyraServer, clock: FixedClock) -> None:
    async with serve(kaleyra_settings(fake_kaleyra, body_validation=STRICT_BODIES), clock) as client:
        schemas = (await document(client))["components"]["schemas"]
        for name in ("CreateTeleconsultationBody", "UpdateTeleconsultationBody", "ParticipantsBody", "ParticipantBody"):
            assert schemas[name]["additionalProperties"] is False, name
        refused = await client.post("/teleconsultation", json=body(doctor(), patient(), unexpected=1))
        assert refused.status_code == 400


async def test_constraints_inside_lists_and_unions_are_published(client: Client) -> None:
    create = (await document(client))["components"]["schemas"]["CreateTeleconsultationBody"]["properties"]
    ids = next(choice for choice in create["participants"]["anyOf"] if choice.get("type") == "array")
    assert ids["items"] == {"type": "string", "minLength": 1, "maxLength": 256}
    duration = next(choice for choice in create["duration_in_seconds"]["anyOf"] if choice["type"] == "integer")
    assert duration["minimum"] == 0


async def test_error_answers_are_documented_with_the_bodies_the_service_sends(client: Client) -> None:
    operation = (await document(client))["paths"]["/teleconsultation/{roomId}"]["patch"]
    assert set(operation["responses"]) == {"204", "400", "401", "403", "404", "409", "413", "415", "502", "503"}
    bad_request = operation["responses"]["400"]["content"]["application/json"]["schema"]["oneOf"]
    assert bad_request == [{"$ref": "#/components/schemas/ServiceError"}, {"$ref": "#/components/schemas/CrudError"}]


async def test_the_optional_credentials_body_is_published_as_optional(client: Client) -> None:
    assert (await document(client))["paths"]["/credentials"]["post"]["requestBody"]["required"] is False


async def test_options_lists_every_method_of_the_path(client: Client) -> None:
    single = await client.options("/teleconsultation/0123456789abcdef01234567")
    assert single.status_code == 204
    assert single.headers["allow"] == "DELETE, GET, OPTIONS, PATCH"
    collection = await client.options("/teleconsultation")
    assert collection.headers["allow"] == "OPTIONS, POST"


async def test_a_missing_body_is_named_as_such(client: Client) -> None:
    response = await client.patch("/teleconsultation/0123456789abcdef01234567")
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "error": "Bad Request",
        "message": "body: a JSON body is required",
    }


async def test_problem_details_are_documented_wherever_the_error_handlers_answer(client: Client) -> None:
    served = await document(client)
    bad_request = served["paths"]["/teleconsultation"]["post"]["responses"]["400"]["content"]
    assert bad_request["application/problem+json"] == {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
    assert served["components"]["schemas"]["ProblemDetails"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
        "instance",
    ]
    not_ready = served["paths"]["/-/ready"]["get"]["responses"]["503"]["content"]
    assert set(not_ready) == {"application/json"}
