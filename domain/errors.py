"""Errors raised when a request breaks a teleconsultation rule."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the request; the message is safe to show to the caller."""


class InvalidSchedule(DomainError):
    """Start, end or duration do not describe an acceptable appointment."""


class InvalidRoster(DomainError):
    """The participant list is malformed (size, duplicates)."""


class NoPlusUser(DomainError):
    """A complete roster needs at least one participant with the plus privilege."""

    def __init__(self) -> None:
        super().__init__("no plus user in room")


class NoConfiguredGroup(DomainError):
    """A participant belongs to no group listed in the service's privileges."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        super().__init__(f"user {user_id} has no group allowed by the service configuration")


class TeleconsultationLocked(DomainError):
    """The teleconsultation is inside its immutable period and refuses changes."""

    def __init__(self) -> None:
        super().__init__("teleconsultation can no longer be modified")
