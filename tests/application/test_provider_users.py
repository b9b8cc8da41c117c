"""Provider users of a new roster are created side by side, never more than the bound at once."""

from __future__ import annotations

import asyncio

import pytest

from adapters.memory.clock import SystemClock
from adapters.memory.store import InMemoryStore
from adapters.memory.video_provider import InMemoryVideoProvider
from application.provider_users import MAX_CONCURRENT_CREATIONS, ProviderUsers
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
