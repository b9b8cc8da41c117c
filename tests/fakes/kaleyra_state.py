"""State, response forms and fault injection of the fake Kaleyra v2 API (see kaleyra_server.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import secrets
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

UserForm = Literal["user_id", "id", "nested"]
RoomForm = Literal["v2", "url", "nested", "v1"]
DetailsForm = Literal["v2", "long", "nested"]
TranscriptionForm = Literal["text", "json"]

# Names used by fail_next; they match the route names of the fake server.
OPERATIONS = frozenset(
    {
        "create_user",
        "create_room",
        "get_room",
        "delete_room",
        "list_uploads",
        "delete_upload",
        "sdk_credentials",
        "upload_background",
        "update_company",
        "transcription",
    }
)


class Fault(StrEnum):
    SERVER_ERROR = "500"
    UNAVAILABLE = "503"
    RATE_LIMITED = "429"  # sent with a Retry-After header
    RESET = "reset"  # the connection is dropped without an answer
    HANG = "hang"  # no answer until the client gives up (or the server stops)
    GARBAGE = "garbage"  # 200 with a body that is not JSON
    REDIRECT = "redirect"  # 307 to another path of the fake
    BAD_REQUEST = "400"  # the request itself is refused: the provider is up
    LOST = "lost"  # the call is carried out, then the connection drops before the answer


RANDOM_FAULTS: tuple[Fault, ...] = (Fault.SERVER_ERROR, Fault.UNAVAILABLE, Fault.RATE_LIMITED, Fault.RESET, Fault.HANG)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    raw_path: str  # as sent, percent-escapes included
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(slots=True)
class FakeRoom:
    room_id: str
    participants: list[dict[str, Any]]  # as received, plus the generated `link`
    duration: int | None
    recording: str
    call_type: str
    live: bool
    description: str
    creation_date: str
    offline_transcription: bool = False


@dataclass(slots=True)
class FakeKaleyraState:
    """Everything the fake knows, inspectable and adjustable while it runs."""

    api_key: str = "fake-kaleyra-api-key"
    latency_seconds: float = 0.0
    failure_rate: float = 0.0
    seed: int = 0
    random_faults: tuple[Fault, ...] = RANDOM_FAULTS
    retry_after: str = "1"
    hang_seconds: float = 30.0
    max_page_size: int = 100
    user_form: UserForm = "user_id"
    room_form: RoomForm = "v2"
    details_form: DetailsForm = "v2"
    transcription_form: TranscriptionForm = "text"
    transcription_chunked: bool = False  # stream without Content-Length
    # A plain-text transcription sent with this Content-Type, its text encoded in `transcription_encoding`.
    transcription_content_type: str | None = None
    transcription_encoding: str = "utf-8"
    links_withheld: int = 0  # leave the last N participants out of a room creation answer
    users: dict[str, str] = field(default_factory=dict)  # user id -> role
    rooms: dict[str, FakeRoom] = field(default_factory=dict)
    uploads: dict[str, dict[str, str]] = field(default_factory=dict)  # key -> upload object
    backgrounds: dict[str, dict[str, str]] = field(default_factory=dict)  # alias -> background object
    background_files: list[tuple[str, str, bytes]] = field(default_factory=list)  # (filename, type, data) received
    company: dict[str, Any] = field(
        default_factory=lambda: {
            "name": "Fake Clinic",
            "default_language": "en",
            "default_background": None,
            "end_call_redirect_url": "",
            "user_details_provider_url": "",
            "end_call_redirect_timeout_ms": 5000,
        }
    )
    transcriptions: dict[tuple[str, str], str] = field(default_factory=dict)  # (room, session) -> text
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, path) in arrival order
    requests: list[RecordedRequest] = field(default_factory=list)
    # False keeps only `call_counts`, so that a long load test does not fill the fake's memory.
    record_requests: bool = True
    call_counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (method, path) -> calls
    shortest_room_read_gap: dict[str, float] = field(default_factory=dict)  # room id -> seconds between two GETs
    _last_room_read: dict[str, float] = field(default_factory=dict)
    rng: random.Random = field(init=False)
    _scripted: dict[str, deque[Fault]] = field(default_factory=dict)
    _release: asyncio.Event | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ValueError("failure_rate must be between 0 and 1")
        self.rng = random.Random(self.seed)

    # ------------------------------------------------------------ fault injection

    def fail_next(self, operation: str, fault: Fault | str = Fault.UNAVAILABLE, times: int = 1) -> None:
        """Answer the next `times` calls of `operation` with `fault`, before any random failure."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; expected one of {sorted(OPERATIONS)}")
        self._scripted.setdefault(operation, deque()).extend([Fault(fault)] * times)

    def next_fault(self, operation: str) -> Fault | None:
        scripted = self._scripted.get(operation)
        if scripted:
            return scripted.popleft()
        if self.failure_rate and self.rng.random() < self.failure_rate:
            return self.rng.choice(self.random_faults)
        return None

    async def hang(self) -> None:
        """Wait `hang_seconds`, or less if the server shuts down first."""
        if self._release is None:
            self._release = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._release.wait(), self.hang_seconds)

    def release_hangs(self) -> None:
        if self._release is not None:
            self._release.set()

    # ------------------------------------------------------------ seeding and inspection

    def add_user(self, role: str = "basic", user_id: str | None = None) -> str:
        user_id = user_id or new_id("user")
        self.users[user_id] = role
        return user_id

    def add_upload(
        self, room_id: str, *, user_id: str = "user_x", session_id: str = "session_1", upload_type: str = "file_upload"
    ) -> str:
        key = new_id("upload")
        self.uploads[key] = {
            "key": key,
            "room_id": room_id,
            "user_id": user_id,
            "session_id": session_id,
            "upload_type": upload_type,
            "creation_date": now_iso(),
        }
        return key

    def add_transcription(self, room_id: str, session_id: str, text: str) -> None:
        self.transcriptions[(room_id, session_id)] = text

    def count(self, method: str, path: str) -> int:
        return self.calls.count((method, path))

    def record(self, request: RecordedRequest) -> None:
        self.call_counts[(request.method, request.path)] += 1
        room_id = _room_read(request.method, request.path)
        if room_id is not None:
            now = time.monotonic()
            previous = self._last_room_read.get(room_id)
            if previous is not None:
                self.shortest_room_read_gap[room_id] = min(
                    now - previous, self.shortest_room_read_gap.get(room_id, math.inf)
                )
            self._last_room_read[room_id] = now
        if self.record_requests:
            self.calls.append((request.method, request.path))
            self.requests.append(request)

    def room_reads(self) -> dict[str, int]:
        """Room id -> GET /v2/rooms/{id} calls received, whatever `record_requests` says."""
        reads: dict[str, int] = {}
        for (method, path), count in self.call_counts.items():
            room_id = _room_read(method, path)
            if room_id is not None:
                reads[room_id] = count
        return reads

    def last_request(self, method: str, path: str) -> RecordedRequest:
        for request in reversed(self.requests):
            if (request.method, request.path) == (method, path):
                return request
        raise LookupError(f"no {method} {path} was received")


def _room_read(method: str, path: str) -> str | None:
    """The room id of a GET /v2/rooms/{id}, else None."""
    room_id = path.removeprefix("/v2/rooms/")
    return room_id if method == "GET" and room_id != path and room_id and "/" not in room_id else None


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(6)}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
