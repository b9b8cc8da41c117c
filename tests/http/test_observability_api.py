"""Request ids, Prometheus metrics and JSON log lines of the running service."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from dataclasses import replace

from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from adapters.memory.clock import FixedClock
from entrypoints.logs import OWN_LOGGERS, configure_logging
from entrypoints.settings import ReliabilitySettings
from tests.fakes.auth0_client import FakeAuth0Client
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.fakes.kaleyra_state import Fault
from tests.http.builders import body, create, doctor, patient
from tests.http.conftest import Client, auth_settings, kaleyra_settings, serve


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(metrics: str, name: str, **labels: str) -> float | None:
    return samples(metrics).get((name, frozenset(labels.items())))


async def test_every_answer_carries_a_request_id_that_reaches_the_provider(
    client: Client, fake_kaleyra: FakeKaleyraServer
) -> None:
    given = await client.post("/teleconsultation", json=body(doctor(), patient()), headers={"x-request-id": "req-7"})
    assert given.headers["x-request-id"] == "req-7"
    assert {r.headers.get("x-request-id") for r in fake_kaleyra.state.requests} == {"req-7"}

    made_up = await client.get("/no/such/route")
    unusable = await client.get("/-/healthz", headers={"x-request-id": "has spaces and https://a.link/"})
    ids = [made_up.headers["x-request-id"], unusable.headers["x-request-id"]]
    assert made_up.status_code == 404
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert ids[0] != ids[1]


async def test_the_request_id_reaches_the_identity_service(
    fake_kaleyra: FakeKaleyraServer, auth0: FakeAuth0Client, clock: FixedClock
) -> None:
    async with serve(auth_settings(fake_kaleyra, auth0), clock) as client:
        payload = {
            "participants": ["auth0|doc", "auth0|pat"],
            "start_date": body()["start_date"],
            "end_date": body()["end_date"],
        }
        response = await client.post("/teleconsultation", json=payload, headers={"x-request-id": "bad id"})
        assert response.status_code == 201
        assert auth0.state.requests[-1].headers["x-request-id"] == response.headers["x-request-id"] != "bad id"


def served(metrics: str, method: str, route: str, status: int) -> float | None:
    return sample(metrics, "teleconsultation_http_requests_total", method=method, route=route, status=str(status))


def provider_calls(metrics: str, operation: str, outcome: str) -> float:
    name = "teleconsultation_provider_call_duration_seconds_count"
    return sample(metrics, name, provider="kaleyra", operation=operation, outcome=outcome) or 0


async def test_metrics_count_requests_by_route_template_and_provider_calls_by_outcome(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    reliability = ReliabilitySettings(circuit_failure_threshold=2, sweep_interval_seconds=0.05)
    async with serve(replace(kaleyra_settings(fake_kaleyra), reliability=reliability), clock) as client:
        room_id = await create(client, body(doctor(), patient()))
        assert (await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "doc-1"})).status_code == 200
        await client.get(f"/teleconsultation/{room_id}/no-such-route")
        metrics = (await client.get("/-/metrics")).text
        assert served(metrics, "POST", "/teleconsultation", 201) == 1
        assert served(metrics, "GET", "/teleconsultation/{roomId}", 200) == 1
        assert served(metrics, "GET", "unmatched", 404) == 1
        assert provider_calls(metrics, "create_room", "2xx") == 1
        assert sample(metrics, "teleconsultation_provider_circuit_open", provider="kaleyra") == 0
        assert sample(metrics, "teleconsultation_pending_room_cleanups") == 0
        assert room_id not in metrics
        assert all(room not in metrics for room in fake_kaleyra.state.rooms)

        fake_kaleyra.state.fail_next("delete_room", Fault.SERVER_ERROR, times=1000)
        assert (await client.delete(f"/teleconsultation/{room_id}")).status_code == 204
        await asyncio.sleep(0.2)  # a few sweeps: the first fails too and opens the circuit, the others are held back
        metrics = (await client.get("/-/metrics")).text
        assert sample(metrics, "teleconsultation_provider_circuit_open", provider="kaleyra") == 1
        assert sample(metrics, "teleconsultation_pending_room_cleanups") == 1
        assert provider_calls(metrics, "delete_room", "failed") == 2
        assert provider_calls(metrics, "delete_room", "short_circuited") >= 1


async def test_metrics_are_served_in_the_exposition_format_with_one_charset(client: Client) -> None:
    response = await client.get("/-/metrics")
    assert response.status_code == 200
    parameters = [part.strip() for part in response.headers["content-type"].split(";")]
    # The exposition format's own media type (text/plain; version=...; charset=utf-8), each parameter once.
    assert parameters == [part.strip() for part in CONTENT_TYPE_LATEST.split(";")]
    assert parameters.count("charset=utf-8") == 1


async def test_log_lines_are_json_objects_with_the_request_id(client: Client, json_logs: io.StringIO) -> None:
    response = await client.post(
        "/teleconsultation", json=body(doctor(), patient()), headers={"x-request-id": "req-log"}
    )
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    served = [line for line in lines if line["message"] == "request served"]
    assert served == [
        {
            "time": served[0]["time"],
            "level": "DEBUG",
            "logger": "entrypoints.http.observability",
            "message": "request served",
            "request_id": "req-log",
            "method": "POST",
            "route": "/teleconsultation",
            "status": response.status_code,
            "duration_ms": served[0]["duration_ms"],
        }
    ]


def test_configure_logging_writes_json_and_keeps_other_libraries_quiet() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {name: logging.getLogger(name).level for name in OWN_LOGGERS}
    stream = io.StringIO()
    try:
        configure_logging("DEBUG", stream)
        logging.getLogger("application.rooms").debug("own debug line", extra={"room_id": "room-1"})
        logging.getLogger("pymongo.command").debug("a library's debug line quoting a document")
        try:
            raise KeyError("patient-7")
        except KeyError:
            logging.getLogger("entrypoints.x").exception("it broke")
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["own debug line", "it broke"]
    assert lines[0]["room_id"] == "room-1"
    assert lines[1]["exception"]["type"] == "KeyError"
    assert "patient-7" not in stream.getvalue()
