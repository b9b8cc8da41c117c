"""The company virtual background use cases, on the in-memory fakes."""

from __future__ import annotations

import pytest

from application.dto import BackgroundImage, Requester
from application.errors import (
    ContentTooLarge,
    Forbidden,
    InvalidRequest,
    ProviderUnsupported,
    Unauthorized,
    UnsupportedMediaType,
)
from application.upload_background import MAX_BACKGROUND_BYTES, is_jpeg
from tests.application.harness import FeaturelessProvider, Harness

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(100)
ADMIN = Requester(("doc-1",), groups=("doctor",))
PATIENT = Requester(("pat-1",), groups=("patient",))


class ImageSource:
    """Stands in for the HTTP body; records whether (and with which limit) it was read."""

    def __init__(self, data: bytes = JPEG, filename: str = "clinic.jpg") -> None:
        self.image = BackgroundImage(filename=filename, data=data)
        self.limits: list[int] = []

    async def read(self, max_bytes: int) -> BackgroundImage:
        self.limits.append(max_bytes)
        if len(self.image.data) > max_bytes:
            raise ContentTooLarge("too large")
        return self.image


async def test_an_admin_uploads_a_jpeg_and_makes_it_the_default() -> None:
    h = Harness()
    source = ImageSource()

    background = await h.upload_background.execute(ADMIN, source)
    company = await h.set_background.execute(ADMIN, f"  {background.alias} ")

    assert source.limits == [MAX_BACKGROUND_BYTES]
    assert h.features.background_files == [("clinic.jpg", "image/jpeg", JPEG)]
    assert company["default_background"] == {
        "alias": background.alias,
        "url": background.url,
        "creation_date": background.creation_date,
    }


@pytest.mark.parametrize(
    ("requester", "error"), [(None, Unauthorized), (Requester(()), Unauthorized), (PATIENT, Forbidden)]
)
async def test_only_settings_admins_change_settings_and_nothing_is_read_before(
    requester: Requester | None, error: type[Exception]
) -> None:
    h = Harness()
    source = ImageSource()
    with pytest.raises(error):
        await h.upload_background.execute(requester, source)
    with pytest.raises(error):
        await h.set_background.execute(requester, "alias")
    assert source.limits == []
    assert h.features.background_files == []


async def test_the_configured_admin_groups_decide() -> None:
    h = Harness(admin_groups=frozenset({"it-admin"}))
    with pytest.raises(Forbidden):
        await h.upload_background.execute(ADMIN, ImageSource())
    await h.upload_background.execute(Requester(("ops",), groups=("staff", "it-admin")), ImageSource())
    assert len(h.features.background_files) == 1


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n" + bytes(10), b"GIF89a", b"\xff\xd8", b"", b"<svg xmlns='...'/>"])
async def test_anything_but_a_jpeg_is_refused_whatever_it_claims(data: bytes) -> None:
    h = Harness()
    with pytest.raises(UnsupportedMediaType, match="JPEG"):
        await h.upload_background.execute(ADMIN, ImageSource(data, filename="photo.jpg"))
    assert h.features.background_files == []


def test_jpeg_detection_looks_at_the_magic_bytes() -> None:
    assert is_jpeg(JPEG)
    assert not is_jpeg(b"\xff\xd8\x00")


async def test_an_oversized_image_is_refused_by_the_source() -> None:
    h = Harness()
    with pytest.raises(ContentTooLarge):
        await h.upload_background.execute(ADMIN, ImageSource(JPEG + bytes(MAX_BACKGROUND_BYTES)))


@pytest.mark.parametrize("alias", [None, "", "   "])
async def test_a_missing_or_empty_alias_is_refused(alias: str | None) -> None:
    h = Harness()
    with pytest.raises(InvalidRequest, match="background_alias"):
        await h.set_background.execute(ADMIN, alias)


async def test_an_alias_the_provider_does_not_know_is_the_callers_mistake() -> None:
    with pytest.raises(InvalidRequest, match="refused the background alias"):
        await Harness().set_background.execute(ADMIN, "no-such-alias")


async def test_a_provider_without_backgrounds_answers_after_the_permission_check() -> None:
    h = Harness(provider=FeaturelessProvider())
    with pytest.raises(Forbidden):
        await h.upload_background.execute(PATIENT, ImageSource())
    with pytest.raises(ProviderUnsupported, match="company virtual backgrounds"):
        await h.upload_background.execute(ADMIN, ImageSource())
    with pytest.raises(ProviderUnsupported, match="company virtual backgrounds"):
        await h.set_background.execute(ADMIN, "alias")


async def test_no_admin_groups_let_nobody_change_settings() -> None:
    h = Harness(admin_groups=frozenset())
    with pytest.raises(Forbidden):
        await h.upload_background.execute(ADMIN, ImageSource())
    with pytest.raises(Forbidden):
        await h.set_background.execute(ADMIN, "alias")
