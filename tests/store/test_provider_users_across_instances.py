"""ProviderUsers of two service instances sharing one store (in-memory, and MongoDB over the wire)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.video_provider import InMemoryVideoProvider
from application.dto import UserMapping
from application.errors import ProviderError, UserCreationInProgress
from application.provider_users import ProviderUsers, WantedUser
from domain.privileges import Privilege
from tests.processes import eventually
from tests.store.conftest import Ports

TTL = timedelta(seconds=30)


class SlowProvider(InMemoryVideoProvider):
    """User creation takes a while, so that two instances really ask at the same time."""

    def __init__(self, seconds: float = 0.05) -> None:
        super().__init__()
        self.seconds = seconds
        self.asked = 0  # creations under way or done

    async def create_user(self, privilege: Privilege) -> str:
        self.asked += 1
        await asyncio.sleep(self.seconds)
        return await super().create_user(privilege)


class QuickProvider(InMemoryVideoProvider):
    """Another provider account's users: ids of its own, which never equal SlowProvider's."""

    async def create_user(self, privilege: Privilege) -> str:
        user_id = await super().create_user(privilege)
        self.users[f"quick-{user_id}"] = self.users.pop(user_id)
        return f"quick-{user_id}"


def instance(
    ports: Ports,
    provider: InMemoryVideoProvider,
    clock: FixedClock,
    name: str,
    *,
    max_wait: timedelta = timedelta(seconds=10),
    reservation_ttl: timedelta = TTL,
) -> ProviderUsers:
    """The ProviderUsers of one service instance: its own process-local locks, its own owner name."""
    return ProviderUsers(
        user_ids=ports.user_ids,
        provider=provider,
        clock=clock,
        owner=name,
        max_wait=max_wait,
        reservation_ttl=reservation_ttl,
    )


async def test_two_instances_asking_at_once_create_one_provider_user(ports: Ports, clock: FixedClock) -> None:
    provider = SlowProvider()
    a, b = instance(ports, provider, clock, "a"), instance(ports, provider, clock, "b")
    ids = await asyncio.gather(*(users.ensure(f"user-{n % 3}", Privilege.BASIC) for n in range(12) for users in (a, b)))
    assert len(provider.users) == 3
    assert len(set(ids)) == 3
    for n in range(3):
        mapping = await ports.user_ids.find(f"user-{n}")
        assert mapping is not None
        assert mapping.provider_user_id in provider.users


async def test_a_failed_creation_frees_the_id_for_the_next_try_at_once(ports: Ports, clock: FixedClock) -> None:
    provider = InMemoryVideoProvider()
    provider.fail_next("create_user")
    with pytest.raises(ProviderError):
        await instance(ports, provider, clock, "a").ensure("user-1", Privilege.PLUS)
    assert await instance(ports, provider, clock, "b", max_wait=timedelta(0)).ensure("user-1", Privilege.PLUS)
    assert len(provider.users) == 1


async def test_the_reservation_of_an_instance_that_died_is_taken_over_once_it_runs_out(
    ports: Ports, clock: FixedClock
) -> None:
    provider = InMemoryVideoProvider()
    await ports.user_ids.reserve("user-1", "dead-instance", now=clock.now(), until=clock.now() + TTL)
    impatient = instance(ports, provider, clock, "b", max_wait=timedelta(seconds=0.1))
    with pytest.raises(UserCreationInProgress):
        await impatient.ensure("user-1", Privilege.PLUS)
    assert not provider.users
    clock.advance(TTL)
    provider_user_id = await impatient.ensure("user-1", Privilege.PLUS)
    assert list(provider.users) == [provider_user_id]


async def test_a_creator_slower_than_its_reservation_adopts_the_user_of_whoever_took_over(
    ports: Ports, clock: FixedClock
) -> None:
    slow, quick = SlowProvider(seconds=0.3), InMemoryVideoProvider()
    late = asyncio.create_task(instance(ports, slow, clock, "slow", reservation_ttl=TTL).ensure("u", Privilege.PLUS))
    await eventually(lambda: slow.asked == 1, what="the slow creation")  # "slow" holds the reservation
    clock.advance(TTL)
    winner = await instance(ports, quick, clock, "quick").ensure("u", Privilege.PLUS)
    assert await late == winner
    assert len(slow.users) == 1  # created too late and left unused: the price of a reservation running out


async def test_a_roster_waits_for_the_one_id_another_instance_is_creating_and_creates_the_rest(
    ports: Ports, clock: FixedClock
) -> None:
    other, mine = QuickProvider(), InMemoryVideoProvider()
    await ports.user_ids.reserve("user-2", "b", now=clock.now(), until=clock.now() + TTL)
    roster = [WantedUser(f"user-{n}", Privilege.BASIC) for n in range(4)]
    creating = asyncio.create_task(instance(ports, mine, clock, "a").ensure_all(roster))
    await eventually(lambda: len(mine.users) == 3, what='"a" making the three others')  # and waiting for "b"
    assert not creating.done()
    assert len(mine.users) == 3
    theirs = await other.create_user(Privilege.BASIC)
    await ports.user_ids.complete(UserMapping("user-2", theirs), "b")

    provider_user_ids = await creating

    assert provider_user_ids[2] == theirs
    assert set(provider_user_ids) - {theirs} == set(mine.users)
    assert await ports.user_ids.find_many([user.user_id for user in roster]) == {
        user.user_id: UserMapping(user.user_id, provider_user_id)
        for user, provider_user_id in zip(roster, provider_user_ids, strict=True)
    }


async def test_a_roster_slower_than_its_reservations_adopts_the_user_of_whoever_took_one_over(
    ports: Ports, clock: FixedClock
) -> None:
    slow, quick = SlowProvider(seconds=0.3), QuickProvider()
    roster = [WantedUser(f"user-{n}", Privilege.BASIC) for n in range(3)]
    late = asyncio.create_task(instance(ports, slow, clock, "slow").ensure_all(roster))
    await eventually(lambda: slow.asked == 3, what="the slow creations")  # "slow" holds the three reservations
    clock.advance(TTL)
    winner = await instance(ports, quick, clock, "quick").ensure("user-1", Privilege.BASIC)

    provider_user_ids = await late

    assert provider_user_ids[1] == winner
    assert len(slow.users) == 3  # one created too late and left unused
    assert {provider_user_ids[0], provider_user_ids[2]} < set(slow.users)
    assert (await ports.user_ids.find("user-1")) == UserMapping("user-1", winner)


async def test_when_one_creation_of_a_roster_fails_the_others_are_kept_and_its_id_is_free_at_once(
    ports: Ports, clock: FixedClock
) -> None:
    provider = InMemoryVideoProvider()
    provider.fail_next("create_user")
    roster = [WantedUser(f"user-{n}", Privilege.BASIC) for n in range(3)]
    with pytest.raises(ProviderError):
        await instance(ports, provider, clock, "a").ensure_all(roster)
    assert len(provider.users) == 2
    assert len(await ports.user_ids.find_many([user.user_id for user in roster])) == 2  # none is lost

    again = await instance(ports, provider, clock, "b", max_wait=timedelta(0)).ensure_all(roster)

    assert len(provider.users) == 3
    assert set(again) == set(provider.users)
