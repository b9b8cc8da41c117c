"""The user-id map and its reservations, one contract for the in-memory fake and MongoDB over the wire."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from application.dto import UserMapping
from application.errors import ReservationLost, UserCreationInProgress
from tests.builders import T0
from tests.store.conftest import Ports, map_user

TTL = timedelta(seconds=30)


async def test_mappings_are_found_once_completed_and_only_by_their_exact_id(ports: Ports) -> None:
    full = UserMapping("auth0|abc", "kaleyra_1", "Joe Smith", ("doctor", "admin"))
    bare = UserMapping("pat-1", "kaleyra_2")
    assert await ports.user_ids.find(full.received_user_id) is None
    await map_user(ports.user_ids, full)
    await map_user(ports.user_ids, bare)
    assert await ports.user_ids.find(full.received_user_id) == full
    assert await ports.user_ids.find(bare.received_user_id) == bare
    assert await ports.user_ids.find("AUTH0|ABC") is None


async def test_many_ids_are_looked_up_at_once_and_only_completed_mappings_come_back(ports: Ports) -> None:
    full = UserMapping("auth0|abc", "kaleyra_1", "Joe Smith", ("doctor", "admin"))
    bare = UserMapping("pat-1", "kaleyra_2")
    await map_user(ports.user_ids, full)
    await map_user(ports.user_ids, bare)
    await ports.user_ids.reserve("pat-2", "instance-a", now=T0, until=T0 + TTL)

    found = await ports.user_ids.find_many(["auth0|abc", "pat-1", "pat-2", "nobody", "AUTH0|ABC"])

    assert found == {"auth0|abc": full, "pat-1": bare}
    assert await ports.user_ids.find_many([]) == {}


async def test_a_running_reservation_keeps_others_out_and_is_invisible_to_find(ports: Ports) -> None:
    user_ids = ports.user_ids
    assert await user_ids.reserve("auth0|abc", "instance-a", now=T0, until=T0 + TTL) is None
    assert await user_ids.find("auth0|abc") is None
    with pytest.raises(UserCreationInProgress) as refused:
        await user_ids.reserve("auth0|abc", "instance-b", now=T0 + TTL - timedelta(seconds=1), until=T0 + 2 * TTL)
    assert "auth0|abc" not in str(refused.value)
    assert await user_ids.reserve("auth0|abc", "instance-a", now=T0, until=T0 + TTL) is None  # its own


async def test_once_completed_every_reservation_gets_the_mapping(ports: Ports) -> None:
    user_ids = ports.user_ids
    mapping = UserMapping("auth0|abc", "kaleyra_1", None, ("patient",))
    await user_ids.reserve("auth0|abc", "instance-a", now=T0, until=T0 + TTL)
    await user_ids.complete(mapping, "instance-a")
    assert await user_ids.find("auth0|abc") == mapping
    assert await user_ids.reserve("auth0|abc", "instance-b", now=T0 + 10 * TTL, until=T0 + 11 * TTL) == mapping
    with pytest.raises(ReservationLost):
        await user_ids.complete(UserMapping("auth0|abc", "kaleyra_2"), "instance-a")
    assert await user_ids.find("auth0|abc") == mapping


async def test_a_reservation_that_ran_out_is_taken_over_and_its_old_holder_cannot_complete(ports: Ports) -> None:
    user_ids = ports.user_ids
    await user_ids.reserve("auth0|abc", "slow-instance", now=T0, until=T0 + TTL)
    assert await user_ids.reserve("auth0|abc", "instance-b", now=T0 + TTL, until=T0 + 2 * TTL) is None
    with pytest.raises(ReservationLost):
        await user_ids.complete(UserMapping("auth0|abc", "kaleyra_slow"), "slow-instance")
    await user_ids.complete(UserMapping("auth0|abc", "kaleyra_b"), "instance-b")
    assert await user_ids.find("auth0|abc") == UserMapping("auth0|abc", "kaleyra_b")


async def test_an_abandoned_reservation_frees_the_id_at_once_but_only_its_holder_abandons_it(ports: Ports) -> None:
    user_ids = ports.user_ids
    await user_ids.reserve("auth0|abc", "instance-a", now=T0, until=T0 + TTL)
    await user_ids.abandon("auth0|abc", "instance-b")
    with pytest.raises(UserCreationInProgress):
        await user_ids.reserve("auth0|abc", "instance-b", now=T0, until=T0 + TTL)
    await user_ids.abandon("auth0|abc", "instance-a")
    assert await user_ids.reserve("auth0|abc", "instance-b", now=T0, until=T0 + TTL) is None


async def test_a_completed_mapping_is_never_abandoned(ports: Ports) -> None:
    mapping = UserMapping("auth0|abc", "kaleyra_1")
    await map_user(ports.user_ids, mapping)
    await ports.user_ids.abandon("auth0|abc", "test")
    assert await ports.user_ids.find("auth0|abc") == mapping


async def test_of_concurrent_reservations_exactly_one_is_granted(ports: Ports) -> None:
    owners = [f"instance-{n}" for n in range(6)]
    outcomes = await asyncio.gather(
        *(ports.user_ids.reserve("auth0|abc", owner, now=T0, until=T0 + TTL) for owner in owners),
        return_exceptions=True,
    )
    assert outcomes.count(None) == 1
    assert all(isinstance(o, UserCreationInProgress) for o in outcomes if o is not None)


async def test_a_batch_reserves_only_the_ids_without_any_row(ports: Ports) -> None:
    user_ids = ports.user_ids
    await map_user(user_ids, UserMapping("mapped", "kaleyra_1"))
    await user_ids.reserve("held", "instance-b", now=T0, until=T0 + TTL)
    await user_ids.reserve("ran-out", "instance-b", now=T0 - 2 * TTL, until=T0 - TTL)

    reserved = await user_ids.reserve_new(
        ["mapped", "held", "ran-out", "new-1", "new-2", "new-1"], "instance-a", now=T0, until=T0 + TTL
    )

    assert reserved == {"new-1", "new-2"}
    with pytest.raises(UserCreationInProgress):  # new reservations keep others out like any other
        await user_ids.reserve("new-1", "instance-b", now=T0, until=T0 + TTL)
    with pytest.raises(UserCreationInProgress):  # the other owner's reservation is left as it was
        await user_ids.reserve("held", "instance-a", now=T0, until=T0 + TTL)
    assert await user_ids.reserve("mapped", "instance-a", now=T0, until=T0 + TTL) == UserMapping("mapped", "kaleyra_1")
    assert await user_ids.reserve("ran-out", "instance-a", now=T0, until=T0 + TTL) is None  # `reserve` takes it over
    assert await user_ids.reserve_new([], "instance-a", now=T0, until=T0 + TTL) == set()


async def test_of_concurrent_batches_each_id_is_granted_to_exactly_one(ports: Ports) -> None:
    owners = [f"instance-{n}" for n in range(4)]
    batches = [[f"user-{(n + k) % 6}" for k in range(3)] for n in range(len(owners))]
    granted = await asyncio.gather(
        *(
            ports.user_ids.reserve_new(batch, owner, now=T0, until=T0 + TTL)
            for batch, owner in zip(batches, owners, strict=True)
        )
    )
    for user in {user for batch in batches for user in batch}:
        assert sum(user in ids for ids in granted) == 1, user


async def test_a_batch_completion_completes_what_it_holds_and_names_what_was_taken_over(ports: Ports) -> None:
    user_ids = ports.user_ids
    assert await user_ids.reserve_new(["a", "b", "c"], "slow", now=T0, until=T0 + TTL) == {"a", "b", "c"}
    assert await user_ids.reserve("b", "quick", now=T0 + TTL, until=T0 + 2 * TTL) is None  # "slow" let it run out
    mine = [UserMapping("a", "kal_a", "Ann", ("patient",)), UserMapping("b", "kal_b"), UserMapping("c", "kal_c")]

    assert await user_ids.complete_all(mine, "slow") == {"b"}

    assert await user_ids.find_many(["a", "b", "c"]) == {"a": mine[0], "c": mine[2]}
    await user_ids.complete(UserMapping("b", "kal_quick"), "quick")  # the reservation stayed the winner's
    assert await user_ids.find("b") == UserMapping("b", "kal_quick")
    assert await user_ids.complete_all([UserMapping("a", "kal_a2")], "slow") == {"a"}  # completed once, never again
    assert await user_ids.find("a") == mine[0]
    assert await user_ids.complete_all([], "slow") == set()
