"""Upgrade what the original Node service stored, collection by collection, and tell what is left."""

from __future__ import annotations

from dataclasses import dataclass

from application.dto import CollectionMigration
from application.ports import LegacyDataMigration


@dataclass(frozen=True, slots=True)
class MigrationReport:
    dry_run: bool
    collections: tuple[CollectionMigration, ...]

    @property
    def complete(self) -> bool:
        """Nothing is left that could not be upgraded (in a dry run: that a real run could not upgrade)."""
        return all(collection.complete for collection in self.collections)

    def lines(self) -> list[str]:
        """The report as printed by `python -m entrypoints migrate`: ids and counts, no personal data."""
        verb = "would upgrade" if self.dry_run else "upgraded"
        lines = []
        for found in self.collections:
            lines.append(f"{found.collection}: {found.scanned} scanned, {found.current} already current")
            lines.extend(f"  {shape}: {count}" for shape, count in sorted(found.shapes.items()))
            lines.extend(f"  left as they are, {why}: {count}" for why, count in sorted(found.ignored.items()))
            lines.append(f"  {verb}: {found.upgraded}")
            lines.extend(f"  {note}" for note in found.notes)
            lines.extend(f"  NOT UPGRADED {what}" for what in found.left)
        if self.complete:
            lines.append("dry run: nothing was written" if self.dry_run else "the store is in today's shape")
        else:
            lines.append("some documents cannot be upgraded: repair them and run migrate again")
        return lines


class MigrateStoredData:
    def __init__(self, migration: LegacyDataMigration) -> None:
        self._migration = migration

    async def execute(self, *, dry_run: bool) -> MigrationReport:
        teleconsultations = await self._migration.upgrade_teleconsultations(dry_run=dry_run)
        user_ids = await self._migration.upgrade_user_ids(dry_run=dry_run)
        return MigrationReport(dry_run, (teleconsultations, user_ids))
