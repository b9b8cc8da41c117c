"""What the in-memory provider offers tests beyond the shared contract."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from adapters.memory.video_provider import InMemoryVideoProvider
from application.errors import ProviderError
from domain.privileges import Privilege
from tests.provider.conftest import SpecFactory


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


async def test_state_is_inspectable(memory_provider: InMemoryVideoProvider, make_spec: SpecFactory) -> None:
    spec = await make_spec(memory_provider)

    room = await memory_provider.create_room(spec)
    await memory_provider.delete_room(room.room_id)
    await memory_provider.delete_room(room.room_id)

    assert memory_provider.users == {m.provider_user_id: m.privilege for m in spec.members}
    assert memory_provider.rooms == {}
    assert memory_provider.deleted_rooms == [room.room_id]
    for member in spec.members:
        assert room.links[member.provider_user_id] == (
            f"https://video.invalid/rooms/{room.room_id}/{member.provider_user_id}"
        )


async def test_rooms_remember_their_spec(memory_provider: InMemoryVideoProvider, make_spec: SpecFactory) -> None:
    spec = await make_spec(memory_provider)

    room = await memory_provider.create_room(spec)

    assert memory_provider.rooms[room.room_id] is spec


async def test_fail_next_fails_exactly_the_requested_calls(memory_provider: InMemoryVideoProvider) -> None:
    memory_provider.fail_next("create_user", times=2)

    for _ in range(2):
        with pytest.raises(ProviderError, match="memory create_user") as raised:
            await memory_provider.create_user(Privilege.PLUS)
        assert raised.value.operation == "create_user"
    assert await memory_provider.create_user(Privilege.PLUS) in memory_provider.users
    assert await memory_provider.room_details("unknown") is None


@pytest.mark.parametrize("operation", ["create_room", "delete_room", "room_details"])
async def test_fail_next_covers_every_operation(
    memory_provider: InMemoryVideoProvider, make_spec: SpecFactory, operation: str
) -> None:
    spec = await make_spec(memory_provider)
    room = await memory_provider.create_room(spec)
    memory_provider.fail_next(operation)
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "create_room": lambda: memory_provider.create_room(spec),
        "delete_room": lambda: memory_provider.delete_room(room.room_id),
        "room_details": lambda: memory_provider.room_details(room.room_id),
    }

    with pytest.raises(ProviderError):
        await calls[operation]()
    await calls[operation]()


def test_fail_next_rejects_unknown_operations(memory_provider: InMemoryVideoProvider) -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        memory_provider.fail_next("create_rooms")


async def test_creation_date_comes_from_the_clock(make_spec: SpecFactory) -> None:
    moment = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    provider = InMemoryVideoProvider(clock=FixedClock(moment))

    room = await provider.create_room(await make_spec(provider))

    details = await provider.room_details(room.room_id)
    assert details is not None
    assert details.creation_date == moment.isoformat()
