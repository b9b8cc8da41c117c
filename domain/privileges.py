"""Privileges: which configured groups make a participant a plus or a basic user."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from domain.errors import NoConfiguredGroup


class Privilege(StrEnum):
    BASIC = "basic"
    PLUS = "plus"


@dataclass(frozen=True, slots=True)
class PrivilegePolicy:
    """Maps groups to a privilege; plus beats basic when a user has both."""

    basic_groups: frozenset[str]
    plus_groups: frozenset[str]
    basic_tools: Mapping[str, bool] | None = field(default=None, hash=False)
    plus_tools: Mapping[str, bool] | None = field(default=None, hash=False)

    def privilege_for(self, user_id: str, groups: Iterable[str]) -> Privilege:
        group_set = set(groups)
        if group_set & self.plus_groups:
            return Privilege.PLUS
        if group_set & self.basic_groups:
            return Privilege.BASIC
        raise NoConfiguredGroup(user_id)

    def tools_for(self, privilege: Privilege) -> Mapping[str, bool] | None:
        return self.plus_tools if privilege is Privilege.PLUS else self.basic_tools
