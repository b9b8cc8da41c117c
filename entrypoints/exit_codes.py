"""The exit codes of `python -m entrypoints`, as the README documents them."""

from __future__ import annotations

EXIT_FAILED = 1  # serve: the service did not start for another reason (e.g. its HTTP port is taken)
EXIT_ROOMS_PENDING = 1  # sweep: provider rooms are still waiting for deletion
EXIT_CONFIGURATION = 2  # a setting or the JSON configuration is wrong
EXIT_STORE_UNAVAILABLE = 3  # the store could not be opened or reached
