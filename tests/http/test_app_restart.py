"""One app object started twice (as test clients and ASGI tools do) works the second time too."""

from __future__ import annotations

from entrypoints.container import Container
from entrypoints.http.app import ServiceApp
from entrypoints.service_config import DEFAULT_CONFIG
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import body, doctor, patient
from tests.http.conftest import kaleyra_settings, serve_app


async def test_a_restarted_app_opens_new_resources_instead_of_using_closed_ones(
    fake_kaleyra: FakeKaleyraServer,
) -> None:
    app = ServiceApp(Container(settings=kaleyra_settings(fake_kaleyra), service_config=DEFAULT_CONFIG))
    for run in ("first", "second"):
        async with serve_app(app) as client:
            created = await client.post("/teleconsultation", json=body(doctor(), patient()))
            assert created.status_code == 201, f"{run} run: {created.text}"
    assert len(fake_kaleyra.state.rooms) == 2
