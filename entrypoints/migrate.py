"""`python -m entrypoints migrate [--dry-run]`: upgrade what the original Node service stored, print the report."""

from __future__ import annotations

import sys

from application.errors import StoreUnavailable
from entrypoints.container import Container, opened_resources, resolved
from entrypoints.exit_codes import EXIT_STORE_UNAVAILABLE

EXIT_LEFT = 1


async def migrate(container: Container, *, dry_run: bool) -> int:
    """0 when nothing is left to upgrade, 1 when something could not be, 3 when the store is unreachable."""
    if container.settings().store.backend == "memory":
        print("STORE_BACKEND=memory keeps nothing from the original service: nothing to migrate")
        return 0
    try:
        async with opened_resources(container):
            report = await (await resolved(container.migrate_stored_data)).execute(dry_run=dry_run)
    except StoreUnavailable as error:
        print(f"migrate failed: {error}", file=sys.stderr)
        return EXIT_STORE_UNAVAILABLE
    print("\n".join(report.lines()))
    return 0 if report.complete else EXIT_LEFT
