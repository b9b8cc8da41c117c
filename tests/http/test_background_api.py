"""POST /settings/background-image and PATCH /settings/update over HTTP, against the fake Kaleyra."""

from __future__ import annotations

from dataclasses import replace

import pytest
from msgspec.structs import replace as replace_struct

from adapters.memory.clock import FixedClock
from application.upload_background import MAX_BACKGROUND_BYTES
from entrypoints.service_config import DEFAULT_CONFIG
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.conftest import Client, kaleyra_settings, serve

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(2000)
ADMIN = {"miauserid": "doc-1", "miausergroups": "doctor"}
PATIENT = {"miauserid": "pat-1", "miausergroups": "patient"}
UPLOAD = "/settings/background-image"


def image(
    data: bytes = JPEG, filename: str = "clinic.jpg", field: str = "virtual_background"
) -> dict[str, tuple[str, bytes, str]]:
    return {field: (filename, data, "image/jpeg")}


async def test_an_admin_uploads_a_background_then_makes_it_the_default(
    client: Client, fake_kaleyra: FakeKaleyraServer
) -> None:
    uploaded = await client.post(UPLOAD, files=image(filename="C:\\photos\\sala d'attesa.jpeg"), headers=ADMIN)

    assert uploaded.status_code == 200, uploaded.text
    background = uploaded.json()["virtual_background"]
    stored = fake_kaleyra.state.backgrounds[background["background_alias"]]
    assert background == {
        "background_alias": stored["alias"],
        "url": stored["url"],
        "creation_date": stored["creation_date"],
    }
    assert fake_kaleyra.state.background_files == [("sala_d_attesa.jpeg", "image/jpeg", JPEG)]

    updated = await client.patch("/settings/update", json={"background_alias": stored["alias"]}, headers=ADMIN)
    assert updated.status_code == 200
    assert updated.json() == {"company": fake_kaleyra.state.company}
    assert updated.json()["company"]["default_background"] == stored


async def test_identity_and_admin_group_come_first(client: Client, fake_kaleyra: FakeKaleyraServer) -> None:
    for headers, status, error in (({}, 401, "Unauthorized user"), (PATIENT, 403, "Forbidden")):
        upload = await client.post(UPLOAD, files=image(), headers=headers)
        update = await client.patch("/settings/update", json={}, headers=headers)
        for response in (upload, update):
            assert response.status_code == status
            assert response.json() == {"error": error}
    assert fake_kaleyra.state.calls == []


async def test_the_admin_groups_come_from_the_configuration(fake_kaleyra: FakeKaleyraServer, clock: FixedClock) -> None:
    config = replace_struct(DEFAULT_CONFIG, settingsAdminGroups=["it-admin"])
    async with serve(kaleyra_settings(fake_kaleyra), clock, config) as client:
        assert (await client.post(UPLOAD, files=image(), headers=ADMIN)).status_code == 403
        allowed = await client.post(UPLOAD, files=image(), headers={"miauserid": "ops", "miausergroups": "x,it-admin"})
        assert allowed.status_code == 200


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n" + bytes(100), b"GIF89a" + bytes(10), b""])
async def test_only_jpeg_bytes_are_accepted(client: Client, fake_kaleyra: FakeKaleyraServer, data: bytes) -> None:
    response = await client.post(UPLOAD, files=image(data), headers=ADMIN)
    assert response.status_code == 415
    assert response.json() == {
        "error": "Failed POST /settings/background-image: the virtual background must be a JPEG image"
    }
    assert fake_kaleyra.state.background_files == []


async def test_a_body_that_is_not_multipart_is_415(client: Client) -> None:
    response = await client.post(UPLOAD, content=JPEG, headers={**ADMIN, "content-type": "image/jpeg"})
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["error"]


async def test_a_missing_file_or_a_broken_body_is_400(client: Client) -> None:
    wrong_field = await client.post(UPLOAD, files=image(field="file"), headers=ADMIN)
    as_text = await client.post(
        UPLOAD, data={"virtual_background": "clinic.jpg"}, files=image(field="x"), headers=ADMIN
    )
    for response in (wrong_field, as_text):
        assert response.status_code == 400
        assert response.json() == {
            "error": "Failed POST /settings/background-image: the multipart field virtual_background must carry a file"
        }
    broken = await client.post(
        UPLOAD, content=b"--b\r\nnonsense", headers={**ADMIN, "content-type": "multipart/form-data; boundary=b"}
    )
    assert broken.status_code == 400
    assert broken.json()["error"].endswith("the multipart/form-data body is malformed")


async def test_ten_megabytes_pass_and_one_byte_more_is_413(client: Client, fake_kaleyra: FakeKaleyraServer) -> None:
    largest = JPEG + bytes(MAX_BACKGROUND_BYTES - len(JPEG))
    assert (await client.post(UPLOAD, files=image(largest), headers=ADMIN)).status_code == 200

    response = await client.post(UPLOAD, files=image(largest + b"\x00"), headers=ADMIN)
    assert response.status_code == 413
    assert response.json() == {"error": "Failed POST /settings/background-image: the file must not exceed 10 MB"}
    assert len(fake_kaleyra.state.background_files) == 1


async def test_the_alias_is_required_and_must_be_known(client: Client) -> None:
    for payload in ({}, {"background_alias": ""}, {"background_alias": "  "}, None):
        response = await client.patch("/settings/update", json=payload, headers=ADMIN)
        assert response.status_code == 400, payload
        assert response.json() == {
            "error": "Failed PATCH /settings/update: background_alias must be a non-empty string"
        }
    unknown = await client.patch("/settings/update", json={"background_alias": "nope"}, headers=ADMIN)
    assert unknown.status_code == 400
    assert "refused the background alias" in unknown.json()["error"]
    wrong_type = await client.patch("/settings/update", json={"background_alias": 7}, headers=ADMIN)
    assert wrong_type.status_code == 400
    assert set(wrong_type.json()) == {"statusCode", "error", "message"}


async def test_jitsi_has_no_company_backgrounds(fake_kaleyra: FakeKaleyraServer, clock: FixedClock) -> None:
    settings = replace(kaleyra_settings(fake_kaleyra), video_provider="jitsi", kaleyra=None)
    async with serve(settings, clock) as client:
        upload = await client.post(UPLOAD, files=image(), headers=ADMIN)
        update = await client.patch("/settings/update", json={"background_alias": "a"}, headers=ADMIN)
    reason = "the jitsi video provider does not support company virtual backgrounds"
    assert (upload.status_code, upload.json()) == (501, {"error": f"Failed POST {UPLOAD}: {reason}"})
    assert (update.status_code, update.json()) == (501, {"error": f"Failed PATCH /settings/update: {reason}"})


async def test_the_longest_alias_fully_escaped_is_within_the_settings_body_limit(client: Client) -> None:
    # 256 characters, each \u-escaped: 1.5 KiB, which a 1 KiB limit would refuse before reading the alias.
    escaped = b'{"background_alias": "' + b"\\u00e9" * 256 + b'"}'
    assert len(escaped) > 1024
    response = await client.patch(
        "/settings/update", content=escaped, headers={**ADMIN, "content-type": "application/json"}
    )
    assert response.status_code == 400  # read and passed on: the fake provider knows no such alias
    assert "refused the background alias" in response.json()["error"]


def many_parts(count: int) -> bytes:
    parts = [b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nx\r\n' for _ in range(count - 1)]
    upload = (
        b'--b\r\nContent-Disposition: form-data; name="virtual_background"; filename="a.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + JPEG + b"\r\n"
    )
    return b"".join(parts) + upload + b"--b--\r\n"


async def test_too_many_parts_are_refused_as_too_many_parts(client: Client, fake_kaleyra: FakeKaleyraServer) -> None:
    headers = {**ADMIN, "content-type": "multipart/form-data; boundary=b"}

    most = await client.post(UPLOAD, content=many_parts(8), headers=headers)
    one_more = await client.post(UPLOAD, content=many_parts(9), headers=headers)
    thousands = await client.post(UPLOAD, content=many_parts(5000), headers=headers)

    assert most.status_code == 200, most.text
    for response in (one_more, thousands):
        assert response.status_code == 400
        assert response.json() == {
            "error": "Failed POST /settings/background-image: "
            "the multipart/form-data body must not have more than 8 parts"
        }
    assert len(fake_kaleyra.state.background_files) == 1


async def test_a_part_with_too_many_headers_is_named_as_such(client: Client) -> None:
    headers = b"".join(b"X-Extra-%d: y\r\n" % n for n in range(50))
    body = (
        b'--b\r\nContent-Disposition: form-data; name="virtual_background"; filename="a.jpg"\r\n'
        + headers
        + b"\r\n"
        + JPEG
        + b"\r\n--b--\r\n"
    )

    response = await client.post(
        UPLOAD, content=body, headers={**ADMIN, "content-type": "multipart/form-data; boundary=b"}
    )

    assert response.status_code == 400
    assert response.json()["error"].endswith("a part of the multipart/form-data body has too many or too long headers")
