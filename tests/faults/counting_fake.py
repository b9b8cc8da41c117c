"""The fake Kaleyra's state, counting the faults it injects."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tests.fakes.kaleyra_state import FakeKaleyraState, Fault


@dataclass(slots=True)
class CountingKaleyraState(FakeKaleyraState):
    injected: Counter[str] = field(default_factory=Counter)  # fault kind -> how many times it was used

    def next_fault(self, operation: str) -> Fault | None:
        # Named explicitly: zero-argument super() does not work in a slotted dataclass.
        fault = FakeKaleyraState.next_fault(self, operation)
        if fault is not None:
            self.injected[fault.value] += 1
        return fault
