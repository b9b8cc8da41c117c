"""DELETE /teleconsultation/{id}/uploads as a use case, on the in-memory fakes."""

from __future__ import annotations

import pytest

from application.delete_uploads import DeleteCallUploads, UploadsDeletion
from application.dto import Requester
from application.errors import NotFound, ProviderError, ProviderUnsupported, Unauthorized
from tests.application.harness import DOCTOR, PATIENT, FeaturelessProvider, Harness, create_command, doctor, patient


async def planned_room(h: Harness) -> tuple[str, str]:
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    room_id = (await h.store.teleconsultations.get(teleconsultation_id)).provider_room_id
    assert room_id is not None
    return teleconsultation_id, room_id


async def test_disabled_deletion_does_nothing_at_all() -> None:
    h = Harness(delete_uploads_enabled=False)
    teleconsultation_id, room_id = await planned_room(h)
    h.features.add_upload(room_id)
    h.features.fail_next("list_uploads")  # would fail if the provider were asked

    assert await h.delete_uploads.execute(teleconsultation_id, PATIENT) is None
    assert len(h.features.uploads) == 1
    # Only a participant learns even that: the policy answers first.
    with pytest.raises(Unauthorized):
        await h.delete_uploads.execute(teleconsultation_id, Requester(("someone-else",)))
    with pytest.raises(NotFound):
        await h.delete_uploads.execute("unknown-id", PATIENT)


async def test_every_file_of_the_room_and_only_of_that_room_is_deleted() -> None:
    h = Harness()
    teleconsultation_id, room_id = await planned_room(h)
    own = {h.features.add_upload(room_id) for _ in range(13)}
    other = h.features.add_upload("another-room")

    assert await h.delete_uploads.execute(teleconsultation_id, PATIENT) == UploadsDeletion(total=13, deleted=13)
    assert set(h.features.deleted_uploads) == own
    assert set(h.features.uploads) == {other}


async def test_failed_deletions_are_counted_and_a_second_call_finishes_the_job() -> None:
    h = Harness()
    teleconsultation_id, room_id = await planned_room(h)
    for _ in range(5):
        h.features.add_upload(room_id)
    h.features.fail_next("delete_upload", times=2)

    assert await h.delete_uploads.execute(teleconsultation_id, PATIENT) == UploadsDeletion(total=5, deleted=3)
    assert await h.delete_uploads.execute(teleconsultation_id, PATIENT) == UploadsDeletion(total=2, deleted=2)
    assert await h.delete_uploads.execute(teleconsultation_id, PATIENT) == UploadsDeletion(total=0, deleted=0)


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_deletions_run_in_parallel_but_never_more_than_the_bound(concurrency: int) -> None:
    h = Harness()
    teleconsultation_id, room_id = await planned_room(h)
    for _ in range(10):
        h.features.add_upload(room_id)
    use_case = DeleteCallUploads(
        repository=h.store.teleconsultations,
        uploads=h.features,
        provider_name="memory",
        enabled=True,
        policy=h.policy,
        journal=h.container.journal(),
        concurrency=concurrency,
    )

    assert await use_case.execute(teleconsultation_id, PATIENT) == UploadsDeletion(total=10, deleted=10)
    assert h.features.max_concurrent_deletions == concurrency


async def test_a_teleconsultation_without_a_room_has_no_files() -> None:
    h = Harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), number=2))

    assert await h.delete_uploads.execute(teleconsultation_id, DOCTOR) == UploadsDeletion(total=0, deleted=0)


async def test_unknown_teleconsultations_and_unlistable_files_are_errors() -> None:
    h = Harness()
    teleconsultation_id, _ = await planned_room(h)
    with pytest.raises(NotFound):
        await h.delete_uploads.execute("0123456789abcdef01234567", PATIENT)
    h.features.fail_next("list_uploads")
    with pytest.raises(ProviderError):
        await h.delete_uploads.execute(teleconsultation_id, PATIENT)


async def test_a_provider_without_files_says_so_to_participants_only() -> None:
    h = Harness(provider=FeaturelessProvider())
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    with pytest.raises(Unauthorized):
        await h.delete_uploads.execute(teleconsultation_id, None)
    with pytest.raises(ProviderUnsupported, match="the bare video provider does not support in-call file uploads"):
        await h.delete_uploads.execute(teleconsultation_id, PATIENT)


def test_the_concurrency_must_allow_progress() -> None:
    h = Harness()
    with pytest.raises(ValueError, match="concurrency"):
        DeleteCallUploads(
            repository=h.store.teleconsultations,
            uploads=h.features,
            provider_name="memory",
            enabled=True,
            policy=h.policy,
            journal=h.container.journal(),
            concurrency=0,
        )
