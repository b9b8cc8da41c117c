"""GET /transcription/{id}/{session}: the transcription of one recorded session of a teleconsultation."""

from __future__ import annotations

from application.authorization import Action, AuthorizationPolicy
from application.dto import Requester
from application.errors import (
    InvalidRequest,
    ProviderUnsupported,
    TranscriptionNotFound,
    TranscriptionUnavailable,
)
from application.ports import SessionTranscriptions, TeleconsultationRepository

TRANSCRIPTION_FORMATS = ("txt", "srt")
FEATURE = "transcriptions"


class GetTranscription:
    """Translates the teleconsultation id into its provider room and fetches the session's text.

    Only a participant of the teleconsultation may read it: Unauthorized otherwise, and NotFound for an unknown id,
    before anything else is said. Then raises ProviderUnsupported (no transcriptions port), InvalidRequest for an
    unknown format,
    TranscriptionUnavailable when recording is off or the teleconsultation has no room,
    TranscriptionNotFound when the provider has none, ProviderError when it fails or the text exceeds `max_bytes`.
    """

    def __init__(
        self,
        *,
        repository: TeleconsultationRepository,
        transcriptions: SessionTranscriptions | None,
        provider_name: str,
        recording_enabled: bool,
        max_bytes: int,
        policy: AuthorizationPolicy,
    ) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self._repository = repository
        self._transcriptions = transcriptions
        self._provider_name = provider_name
        self._recording_enabled = recording_enabled
        self._max_bytes = max_bytes
        self._policy = policy

    async def execute(self, teleconsultation_id: str, session_id: str, fmt: str, requester: Requester | None) -> str:
        admitted = await self._policy.authorize_participant(
            Action.READ_TRANSCRIPTION, requester, lambda: self._repository.get(teleconsultation_id)
        )
        transcriptions = self._transcriptions
        if transcriptions is None:
            raise ProviderUnsupported(self._provider_name, FEATURE)
        if fmt not in TRANSCRIPTION_FORMATS:
            raise InvalidRequest(f"format must be one of {', '.join(TRANSCRIPTION_FORMATS)}")
        if not self._recording_enabled:
            raise TranscriptionUnavailable(
                "calls are not recorded (DEFAULT_RECORDING_TYPE is none), so there are no transcriptions"
            )
        teleconsultation = admitted.teleconsultation
        if teleconsultation.provider_room_id is None:
            raise TranscriptionUnavailable("the teleconsultation has no video room yet, so it has no sessions")
        text = await transcriptions.transcription(teleconsultation.provider_room_id, session_id, fmt, self._max_bytes)
        if text is None:
            raise TranscriptionNotFound
        return text
