"""Until `migrate` resolves the original's duplicate rows there is no unique index: one provider user per id still."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from adapters.memory.clock import FixedClock
from adapters.mongo.embedded import EmbeddedMongoServer
from adapters.mongo.lifecycle import MongoStore, open_mongo_store
from application.dto import UserMapping
from application.errors import UserCreationInProgress
from tests.builders import T0
from tests.legacy.conftest import RawDatabase
from tests.legacy.original_documents import DUPLICATED_USER, LEGACY_USER, TELECONSULTATIONS, USER_MAP


async def test_racing_reservations_leave_one_creator_and_lookups_use_the_oldest_row(
    original_store: RawDatabase, embedded_server: EmbeddedMongoServer, database_name: str
) -> None:
    clock = FixedClock(T0)
    async with (
        open_mongo_store(embedded_server.url, database_name, TELECONSULTATIONS, USER_MAP, clock=clock) as first,
        open_mongo_store(embedded_server.url, database_name, TELECONSULTATIONS, USER_MAP, clock=clock) as second,
    ):
        assert "receivedUserId_1" not in await original_store[USER_MAP].index_information()
        assert (await first.user_ids.find(DUPLICATED_USER)) == UserMapping(DUPLICATED_USER, "kal_dup_oldest", None, ())

        for round_ in range(5):
            user = f"new-{round_}"

            async def reserve(store: MongoStore, owner: str, user: str = user) -> str:
                try:
                    taken = await store.user_ids.reserve(user, owner, now=T0, until=T0 + timedelta(seconds=30))
                except UserCreationInProgress:
                    return "busy"
                return "mine" if taken is None else "mapped"

            outcomes = await asyncio.gather(reserve(first, "a"), reserve(second, "b"))
            assert outcomes.count("mine") <= 1, outcomes
            rows = await original_store[USER_MAP].count_documents({"receivedUserId": user})
            assert rows == outcomes.count("mine")
            if "mine" not in outcomes:  # both backed off: the id is free, the next try succeeds
                assert await first.user_ids.reserve(user, "a", now=T0, until=T0 + timedelta(seconds=30)) is None


async def test_racing_batches_leave_one_creator_per_id_and_never_reserve_an_id_only_auth0id_keys(
    original_store: RawDatabase, embedded_server: EmbeddedMongoServer, database_name: str
) -> None:
    clock = FixedClock(T0)
    until = T0 + timedelta(seconds=30)
    async with (
        open_mongo_store(embedded_server.url, database_name, TELECONSULTATIONS, USER_MAP, clock=clock) as first,
        open_mongo_store(embedded_server.url, database_name, TELECONSULTATIONS, USER_MAP, clock=clock) as second,
    ):
        assert "receivedUserId_1" not in await original_store[USER_MAP].index_information()
        for round_ in range(5):
            batch = [f"new-{round_}-{n}" for n in range(4)]
            granted = await asyncio.gather(
                first.user_ids.reserve_new([*batch, LEGACY_USER], "a", now=T0, until=until),
                second.user_ids.reserve_new([*batch, DUPLICATED_USER], "b", now=T0, until=until),
            )
            assert granted[0].isdisjoint(granted[1]), granted
            assert LEGACY_USER not in granted[0]
            assert DUPLICATED_USER not in granted[1]
            for user in batch:
                rows = await original_store[USER_MAP].count_documents({"receivedUserId": user})
                assert rows == (user in granted[0]) + (user in granted[1])
        assert await first.user_ids.find(LEGACY_USER) == UserMapping(LEGACY_USER, "kal_legacy", None, ())
