"""GET /transcription/{id}/{session} as a use case, on the in-memory fakes."""

from __future__ import annotations

import pytest

from application.dto import Requester
from application.errors import (
    InvalidRequest,
    NotFound,
    ProviderError,
    ProviderUnsupported,
    TranscriptionNotFound,
    TranscriptionUnavailable,
    Unauthorized,
)
from application.get_transcription import GetTranscription
from tests.application.harness import DOCTOR, PATIENT, FeaturelessProvider, Harness, create_command, doctor, patient


async def with_room(h: Harness) -> tuple[str, str]:
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    room_id = (await h.store.teleconsultations.get(teleconsultation_id)).provider_room_id
    assert room_id is not None
    return teleconsultation_id, room_id


@pytest.mark.parametrize("fmt", ["txt", "srt"])
async def test_the_teleconsultation_id_is_translated_to_the_provider_room(fmt: str) -> None:
    h = Harness()
    teleconsultation_id, room_id = await with_room(h)
    h.features.transcriptions[(room_id, "session-1")] = "Doctor: good morning."

    assert await h.transcription.execute(teleconsultation_id, "session-1", fmt, PATIENT) == "Doctor: good morning."


@pytest.mark.parametrize("requester", [None, Requester(()), Requester(("someone-else",), groups=("doctor",))])
async def test_only_participants_read_a_transcription(requester: Requester | None) -> None:
    h = Harness()
    teleconsultation_id, room_id = await with_room(h)
    h.features.transcriptions[(room_id, "session-1")] = "Patient Jane Doe reports chest pain"
    with pytest.raises(Unauthorized):
        await h.transcription.execute(teleconsultation_id, "session-1", "txt", requester)


async def test_a_session_without_transcription_is_not_found() -> None:
    h = Harness()
    teleconsultation_id, _ = await with_room(h)
    with pytest.raises(TranscriptionNotFound):
        await h.transcription.execute(teleconsultation_id, "session-1", "txt", PATIENT)


@pytest.mark.parametrize("fmt", ["pdf", "", "TXT", "txt "])
async def test_only_txt_and_srt_are_formats(fmt: str) -> None:
    h = Harness()
    teleconsultation_id, _ = await with_room(h)
    with pytest.raises(InvalidRequest, match="format must be one of txt, srt"):
        await h.transcription.execute(teleconsultation_id, "session-1", fmt, PATIENT)


async def test_without_recording_there_is_nothing_to_transcribe() -> None:
    h = Harness(records_calls=False)
    teleconsultation_id, room_id = await with_room(h)
    h.features.transcriptions[(room_id, "session-1")] = "text"
    with pytest.raises(TranscriptionUnavailable, match="DEFAULT_RECORDING_TYPE is none"):
        await h.transcription.execute(teleconsultation_id, "session-1", "txt", PATIENT)


async def test_unknown_and_roomless_teleconsultations() -> None:
    h = Harness()
    with pytest.raises(NotFound):
        await h.transcription.execute("0123456789abcdef01234567", "session-1", "txt", PATIENT)
    roomless = await h.create.execute(create_command(doctor(), number=2))
    with pytest.raises(TranscriptionUnavailable, match="no video room yet"):
        await h.transcription.execute(roomless, "session-1", "txt", DOCTOR)


async def test_the_size_limit_reaches_the_provider() -> None:
    h = Harness(transcription_max_bytes=10)
    teleconsultation_id, room_id = await with_room(h)
    h.features.transcriptions[(room_id, "short")] = "0123456789"
    h.features.transcriptions[(room_id, "long")] = "0123456789!"

    assert await h.transcription.execute(teleconsultation_id, "short", "txt", PATIENT) == "0123456789"
    with pytest.raises(ProviderError, match="exceeds the configured maximum of 10 bytes"):
        await h.transcription.execute(teleconsultation_id, "long", "txt", PATIENT)


async def test_a_provider_without_transcriptions_says_so_first_to_a_participant() -> None:
    h = Harness(provider=FeaturelessProvider(), records_calls=False)
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    with pytest.raises(Unauthorized):
        await h.transcription.execute(teleconsultation_id, "session-1", "pdf", None)
    with pytest.raises(ProviderUnsupported, match="the bare video provider does not support transcriptions"):
        await h.transcription.execute(teleconsultation_id, "session-1", "pdf", PATIENT)


def test_the_size_limit_must_be_positive() -> None:
    h = Harness()
    with pytest.raises(ValueError, match="max_bytes"):
        GetTranscription(
            repository=h.store.teleconsultations,
            transcriptions=h.features,
            provider_name="memory",
            recording_enabled=True,
            max_bytes=0,
            policy=h.policy,
        )
