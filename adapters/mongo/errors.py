"""Driver failures translated into the application's StoreUnavailable, without quoting stored values."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError
from pymongo.errors import BulkWriteError, OperationFailure, PyMongoError

from application.errors import StoreUnavailable

# What pymongo itself counts as a DuplicateKeyError.
DUPLICATE_KEY_CODES = frozenset({11000, 11001, 12582})


def refused_as_duplicates(error: BulkWriteError) -> list[int]:
    """The positions of the documents a bulk insert refused for a key already taken, in order; re-raises `error`
    when it holds anything else (another refusal, a write concern error). The driver's messages, which quote the
    keys, are not kept."""
    refused = error.details.get("writeErrors", [])
    if error.details.get("writeConcernErrors") or any(e.get("code") not in DUPLICATE_KEY_CODES for e in refused):
        raise error
    return sorted(failure["index"] for failure in refused)


@contextmanager
def translate_store_errors() -> Iterator[None]:
    """Turn driver failures into StoreUnavailable; application errors raised inside pass through."""
    try:
        yield
    except OperationFailure as error:
        # Server errors can quote stored values (personal data): keep the code, drop the message.
        raise StoreUnavailable(f"MongoDB refused the operation (code {error.code})") from None
    except PyMongoError as error:
        raise StoreUnavailable(f"MongoDB is unavailable ({type(error).__name__})") from error
    except ValidationError:
        raise StoreUnavailable("a stored document does not have the expected shape") from None
