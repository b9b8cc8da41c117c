"""Request bodies for the HTTP tests, and the one call most of them start with: create a teleconsultation."""

from __future__ import annotations

from typing import Any

import httpx

START = "2030-02-22T15:30:00.000Z"
END = "2030-02-22T16:30:00.000Z"


def doctor(user_id: str = "doc-1") -> dict[str, Any]:
    return {"userId": user_id, "groups": ["doctor"], "fullName": "Joe Smith", "language": "it"}


def patient(user_id: str = "pat-1") -> dict[str, Any]:
    return {"userId": user_id, "groups": ["patient"], "fullName": "Jane Doe", "language": "it"}


# The participants of `doctor()` and `patient()`, as the gateway names them in headers mode.
AS_DOCTOR = {"miauserid": "doc-1"}
AS_PATIENT = {"miauserid": "pat-1"}


def body(*participants: dict[str, Any], number: int | None = None, **extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "participants": {"number": len(participants) if number is None else number, "data": list(participants)},
        "start_date": START,
        "end_date": END,
    }
    fields.update(extra)
    return fields


def teleconsultation(doctor_id: str = "doc-1", patient_id: str = "pat-1") -> dict[str, Any]:
    """The usual body: one doctor, one patient."""
    return body(doctor(doctor_id), patient(patient_id))


async def create(client: httpx.AsyncClient, payload: dict[str, Any] | None = None) -> str:
    response = await client.post("/teleconsultation", json=payload or teleconsultation())
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"roomId"}
    room_id: str = response.json()["roomId"]
    return room_id
