"""Driver failures translated into the application's StoreUnavailable, without quoting stored values."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError
from pymongo.errors import OperationFailure, PyMongoError

from application.errors import StoreUnavailable


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
