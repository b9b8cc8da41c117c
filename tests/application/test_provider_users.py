"""Provider users of a new roster are created side by side, never more than the bound at once."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from datetime import datetime

import pytest

from adapters.memory.clock import SystemClock
from adapters.memory.repository import InMemoryUserIdMap
from adapters.memory.store import InMemoryStore
from adapters.memory.video_provider import InMemoryVideoProvider
from application.dto import UserMapping
from application.provider_users import MAX_CONCURRENT_CREATIONS, ProviderUsers, WantedUser
from domain.privileges import Privilege


class SlowProvider(InMemoryVideoProvider):
    """Takes a moment per user creation and remembers the most creations it saw under way at once."""

    def __init__(self) -> None:
        super().__init__()
        self.under_way = 0
        self.peak = 0

    async def create_user(self, privilege: Privilege) -> str:
        self.under_way += 1
        self.peak = max(self.peak, self.under_way)
        try:
            await asyncio.sleep(0.01)
            return await super().create_user(privilege)
        finally:
            self.under_way -= 1


@pytest.mark.parametrize(("new_users", "expected_peak"), [(10, 10), (40, MAX_CONCURRENT_CREATIONS)])
async def test_creations_overlap_up_to_the_bound(new_users: int, expected_peak: int) -> None:
    provider = SlowProvider()
    users = ProviderUsers(user_ids=InMemoryStore().user_ids, provider=provider, clock=SystemClock())

    created = await asyncio.gather(*(users.ensure(f"user-{n}", Privilege.BASIC) for n in range(new_users)))

    assert len(set(created)) == new_users
    assert provider.peak == expected_peak


class CountingUserIds(InMemoryUserIdMap):
    """Counts the looks at the map, one by one or many at once, and the calls that write to it."""

    def __init__(self) -> None:
        super().__init__()
        self.looks = 0
        self.writes: list[str] = []

    async def reserve(self, received_user_id: str, owner: str, *, now: datetime, until: datetime) -> UserMapping | None:
        self.writes.append("reserve")
        return await super().reserve(received_user_id, owner, now=now, until=until)

    async def reserve_new(
        self, received_user_ids: Collection[str], owner: str, *, now: datetime, until: datetime
    ) -> set[str]:
        self.writes.append("reserve_new")
        return await super().reserve_new(received_user_ids, owner, now=now, until=until)

    async def complete(self, mapping: UserMapping, owner: str) -> None:
        self.writes.append("complete")
        await super().complete(mapping, owner)

    async def complete_all(self, mappings: Collection[UserMapping], owner: str) -> set[str]:
        self.writes.append("complete_all")
        return await super().complete_all(mappings, owner)

    async def find(self, received_user_id: str) -> UserMapping | None:
        self.looks += 1
        return await super().find(received_user_id)

    async def find_many(self, received_user_ids: Collection[str]) -> dict[str, UserMapping]:
        self.looks += 1
        return await super().find_many(received_user_ids)


async def test_a_roster_is_looked_up_in_one_go_and_only_the_missing_users_are_created() -> None:
    user_ids, provider = CountingUserIds(), SlowProvider()
    users = ProviderUsers(user_ids=user_ids, provider=provider, clock=SystemClock())
    known = await users.ensure("user-0", Privilege.PLUS)
    user_ids.looks = 0

    wanted = [WantedUser(f"user-{n}", Privilege.BASIC, f"Name {n}", ("patient",)) for n in range(5)]
    provider_user_ids = await users.ensure_all(wanted)

    assert user_ids.looks == 1
    assert provider_user_ids[0] == known
    assert len(set(provider_user_ids)) == 5
    assert len(provider.users) == 5
    assert await users.ensure_all(wanted) == provider_user_ids  # nothing new the second time
    stored = await user_ids.find("user-3")
    assert stored == UserMapping("user-3", provider_user_ids[3], "Name 3", ("patient",))


async def test_two_rosters_naming_the_same_new_user_get_one_provider_user() -> None:
    provider = SlowProvider()
    users = ProviderUsers(user_ids=InMemoryStore().user_ids, provider=provider, clock=SystemClock())
    first, second = await asyncio.gather(
        users.ensure_all([WantedUser("user-1", Privilege.PLUS), WantedUser("user-2", Privilege.BASIC)]),
        users.ensure_all([WantedUser("user-2", Privilege.BASIC), WantedUser("user-3", Privilege.BASIC)]),
    )
    assert first[1] == second[0]
    assert len(provider.users) == 3


async def test_a_roster_of_new_users_is_reserved_in_one_write_and_completed_in_one_write() -> None:
    user_ids = CountingUserIds()
    users = ProviderUsers(user_ids=user_ids, provider=SlowProvider(), clock=SystemClock())

    await users.ensure_all([WantedUser(f"user-{n}", Privilege.BASIC) for n in range(10)])

    assert (user_ids.looks, user_ids.writes) == (1, ["reserve_new", "complete_all"])


async def test_one_id_twice_in_a_roster_gets_one_provider_user() -> None:
    provider = SlowProvider()
    users = ProviderUsers(user_ids=InMemoryStore().user_ids, provider=provider, clock=SystemClock())
    twice = WantedUser("user-1", Privilege.PLUS, "First")

    provider_user_ids = await users.ensure_all([twice, WantedUser("user-2", Privilege.BASIC), twice])

    assert provider_user_ids[0] == provider_user_ids[2]
    assert len(provider.users) == 2
