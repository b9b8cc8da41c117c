"""The VideoProvider contract, run against every adapter: the in-memory fake must behave like the real ones."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from domain.privileges import Privilege
from tests.provider.conftest import ProviderCase, SpecFactory


async def test_create_user_returns_a_fresh_id_for_each_privilege(provider_case: ProviderCase) -> None:
    provider = provider_case.provider

    ids = [await provider.create_user(Privilege.PLUS), await provider.create_user(Privilege.BASIC)]
    ids.append(await provider.create_user(Privilege.BASIC))

    assert all(isinstance(user_id, str) and user_id for user_id in ids)
    assert len(set(ids)) == 3


@pytest.mark.parametrize("size", [2, 25])
async def test_create_room_gives_one_link_per_member(
    provider_case: ProviderCase, make_spec: SpecFactory, size: int
) -> None:
    spec = await make_spec(provider_case.provider, size)

    room = await provider_case.provider.create_room(spec)

    assert room.room_id
    assert set(room.links) == {member.provider_user_id for member in spec.members}
    assert all(urlsplit(link).scheme in {"http", "https"} and urlsplit(link).netloc for link in room.links.values())
    if provider_case.personal_links:
        assert len(set(room.links.values())) == size


async def test_rooms_get_distinct_ids(provider_case: ProviderCase, make_spec: SpecFactory) -> None:
    spec = await make_spec(provider_case.provider)

    first = await provider_case.provider.create_room(spec)
    second = await provider_case.provider.create_room(spec)

    assert first.room_id != second.room_id
    assert set(first.links.values()).isdisjoint(second.links.values())


async def test_unlimited_room_can_be_created(provider_case: ProviderCase, make_spec: SpecFactory) -> None:
    spec = await make_spec(provider_case.provider, duration_seconds=None, tools={"chat": True})

    room = await provider_case.provider.create_room(spec)

    assert set(room.links) == {member.provider_user_id for member in spec.members}


async def test_delete_room_is_idempotent(provider_case: ProviderCase, make_spec: SpecFactory) -> None:
    provider = provider_case.provider
    room = await provider.create_room(await make_spec(provider))

    await provider.delete_room(room.room_id)
    await provider.delete_room(room.room_id)

    assert await provider.room_details(room.room_id) is None


async def test_deleting_an_unknown_room_succeeds(provider_case: ProviderCase) -> None:
    await provider_case.provider.delete_room("room-that-never-existed")


async def test_room_details_describe_the_room_created(provider_case: ProviderCase, make_spec: SpecFactory) -> None:
    provider = provider_case.provider
    limited = await provider.create_room(await make_spec(provider, duration_seconds=1800))
    unlimited = await provider.create_room(await make_spec(provider, duration_seconds=None))

    details = await provider.room_details(limited.room_id)
    unlimited_details = await provider.room_details(unlimited.room_id)

    if not provider_case.keeps_details:
        assert details is None
        assert unlimited_details is None
        return
    assert details is not None
    assert unlimited_details is not None
    assert details.duration_in_seconds == 1800
    assert unlimited_details.duration_in_seconds is None
    assert details.call_type == "audio_video"
    assert details.recording == "none"
    assert details.live is True
    assert details.duration_used_in_seconds == 0
    assert details.creation_date


async def test_room_details_of_an_unknown_room_are_none(provider_case: ProviderCase) -> None:
    assert await provider_case.provider.room_details("room-that-never-existed") is None


def test_each_provider_has_a_distinct_name(provider_case: ProviderCase) -> None:
    assert provider_case.provider.name in {"memory", "kaleyra", "jitsi"}
