"""The authorization policy as a table: action by requester → allowed, 401 or 403, in each identity mode, with and
without `schedulingGroups`; built by the container from the settings, as the service builds it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest

from application.authorization import Action, AuthorizationPolicy, Decision
from application.dto import Requester
from application.errors import Forbidden, NotFound, Unauthorized
from application.update_teleconsultation import UpdateTeleconsultationCommand
from domain.teleconsultation import Teleconsultation
from entrypoints.authorization import OPEN_SCHEDULING_WARNING, authorization_warnings
from tests.application.harness import Harness, create_command, doctor, patient

SCOPE = "teleconsultation:schedule"

# The requesters of the table; the teleconsultation has doc-1 (doctor) and pat-1 (patient) as participants.
REQUESTERS: dict[str, Requester | None] = {
    "anonymous": None,
    "no-id": Requester((), groups=("doctor",)),  # groups, but nobody they belong to
    "stranger": Requester(("someone",), groups=("patient",)),
    "patient": Requester(("pat-1",), groups=("patient",)),
    "doctor": Requester(("doc-1",), groups=("doctor",)),
    "other-doctor": Requester(("doc-2",), groups=("doctor",)),
    "front-desk": Requester(("desk-1",), groups=("front-desk",)),
    "back-office": Requester(("svc@clients",), scopes=("openid", SCOPE)),
}
KINDS = tuple(REQUESTERS)

# Each mode: the harness's settings.
MODES: dict[str, dict[str, Any]] = {
    "headers": {},
    "headers+schedulingGroups": {"scheduling_groups": frozenset({"front-desk"})},
    "jwt": {"auth_mode": "jwt", "scheduling_scope": SCOPE},
    "jwt+schedulingGroups": {
        "auth_mode": "jwt",
        "scheduling_scope": SCOPE,
        "scheduling_groups": frozenset({"front-desk"}),
    },
}

# Columns in the order of KINDS: anonymous, no-id, stranger, patient, doctor, other-doctor, front-desk, back-office.
PARTICIPANTS_ONLY = "401 401 401 ok ok 401 401 401"
TABLE: dict[tuple[str, Action], str] = {
    # Headers mode without schedulingGroups: the gateway decides, as on Mia.
    ("headers", Action.SCHEDULE): "ok ok ok ok ok ok ok ok",
    ("headers+schedulingGroups", Action.SCHEDULE): "401 401 403 403 403 403 ok 403",
    # jwt mode: the plus groups by default, and tokens granting the configured scope.
    ("jwt", Action.SCHEDULE): "401 401 403 403 ok ok 403 ok",
    ("jwt+schedulingGroups", Action.SCHEDULE): "401 401 403 403 403 403 ok ok",
}
for mode in MODES:
    TABLE[(mode, Action.READ_ACCESS)] = PARTICIPANTS_ONLY
    TABLE[(mode, Action.DELETE_UPLOADS)] = PARTICIPANTS_ONLY
    TABLE[(mode, Action.READ_TRANSCRIPTION)] = PARTICIPANTS_ONLY
    TABLE[(mode, Action.GET_CREDENTIALS)] = "401 401 ok ok ok ok ok ok"
    # settingsAdminGroups defaults to the plus groups.
    TABLE[(mode, Action.CHANGE_SETTINGS)] = "401 401 403 403 ok ok 403 403"
    # auditorGroups unset: nobody reads the audit trail.
    TABLE[(mode, Action.READ_AUDIT)] = "401 401 403 403 403 403 403 403"

ANSWERS = {"ok": Decision.ALLOWED, "401": Decision.UNAUTHORIZED, "403": Decision.FORBIDDEN}


def harness(mode: str) -> Harness:
    return Harness(**MODES[mode])


async def teleconsultation_of(h: Harness) -> Teleconsultation:
    # Someone every mode lets schedule plans it.
    setup = Requester(("setup",), groups=("doctor", "front-desk"))
    command = replace(create_command(doctor(), patient()), requester=setup)
    return await h.store.teleconsultations.get(await h.create.execute(command))


async def outcome(
    policy: AuthorizationPolicy,
    action: Action,
    requester: Requester | None,
    load: Callable[[], Awaitable[Teleconsultation]],
) -> Decision:
    """What the use cases get from the entry point they call, as a decision."""
    try:
        if action in {Action.READ_ACCESS, Action.DELETE_UPLOADS, Action.READ_TRANSCRIPTION}:
            await policy.authorize_participant(action, requester, load)
        elif action is Action.GET_CREDENTIALS:
            policy.identified(action, requester)
        else:
            policy.authorize(action, requester)
    except Unauthorized:
        return Decision.UNAUTHORIZED
    except Forbidden:
        return Decision.FORBIDDEN
    return Decision.ALLOWED


def test_every_action_and_mode_has_a_row() -> None:
    assert set(TABLE) == {(mode, action) for mode in MODES for action in Action}


@pytest.mark.parametrize("mode", MODES)
async def test_the_authorization_table(mode: str) -> None:
    h = harness(mode)
    teleconsultation = await teleconsultation_of(h)
    loads: list[str] = []

    async def load() -> Teleconsultation:
        loads.append("read")
        return teleconsultation

    for action in Action:
        row = TABLE[(mode, action)].split()
        for kind, expected in zip(KINDS, row, strict=True):
            requester = REQUESTERS[kind]
            got = await outcome(h.policy, action, requester, load)
            assert got is ANSWERS[expected], (mode, action, kind)
            assert h.policy.decide(action, requester, teleconsultation) is got, (mode, action, kind)


async def test_nobody_unidentified_learns_whether_an_id_exists() -> None:
    policy = Harness().policy
    reads: list[str] = []

    async def unknown() -> Teleconsultation:
        reads.append("read")
        raise NotFound("0123456789abcdef01234567")

    for action in (Action.READ_ACCESS, Action.DELETE_UPLOADS, Action.READ_TRANSCRIPTION):
        for requester in (None, Requester(())):
            with pytest.raises(Unauthorized):
                await policy.authorize_participant(action, requester, unknown)
    assert reads == []
    # An identified requester gets the original's documented 404 for an id nobody uses.
    with pytest.raises(NotFound):
        await policy.authorize_participant(Action.READ_ACCESS, REQUESTERS["stranger"], unknown)


async def test_participant_actions_cannot_be_decided_without_the_teleconsultation() -> None:
    policy = Harness().policy
    with pytest.raises(ValueError, match="needs the teleconsultation"):
        policy.decide(Action.READ_ACCESS, REQUESTERS["patient"])
    with pytest.raises(ValueError, match="authorize_participant"):
        policy.authorize(Action.DELETE_UPLOADS, REQUESTERS["patient"])


def test_empty_scheduling_groups_let_nobody_but_the_scope_schedule() -> None:
    headers = Harness(scheduling_groups=frozenset()).policy
    assert headers.decide(Action.SCHEDULE, REQUESTERS["doctor"]) is Decision.FORBIDDEN
    jwt = Harness(auth_mode="jwt", scheduling_groups=frozenset(), scheduling_scope=SCOPE).policy
    assert jwt.decide(Action.SCHEDULE, REQUESTERS["doctor"]) is Decision.FORBIDDEN
    assert jwt.decide(Action.SCHEDULE, REQUESTERS["back-office"]) is Decision.ALLOWED
    no_scope = Harness(auth_mode="jwt").policy
    assert no_scope.decide(Action.SCHEDULE, REQUESTERS["back-office"]) is Decision.FORBIDDEN


@pytest.mark.parametrize(("mode", "warned"), [("headers", True), ("headers+schedulingGroups", False), ("jwt", False)])
def test_only_open_scheduling_is_warned_about_at_start_up(mode: str, warned: bool) -> None:
    h = harness(mode)
    settings, config = h.container.settings(), h.container.service_config()
    assert authorization_warnings(settings.identity, config) == ([OPEN_SCHEDULING_WARNING] if warned else [])


@pytest.mark.parametrize("requester", [None, REQUESTERS["patient"], REQUESTERS["doctor"]])
async def test_the_scheduling_use_cases_ask_the_policy_before_doing_anything(requester: Requester | None) -> None:
    h = Harness(scheduling_groups=frozenset({"front-desk"}))
    command = create_command(doctor(), patient())
    teleconsultation_id = await h.create.execute(replace(command, requester=REQUESTERS["front-desk"]))
    stored = await h.store.teleconsultations.get(teleconsultation_id)
    rooms, users = dict(h.provider.rooms), dict(h.provider.users)
    expected = Unauthorized if requester is None else Forbidden

    with pytest.raises(expected):
        await h.create.execute(replace(command, requester=requester))
    change = UpdateTeleconsultationCommand(teleconsultation_id, roster=command.roster, requester=requester)
    with pytest.raises(expected):
        await h.update.execute(change)
    with pytest.raises(expected):
        await h.delete.execute(teleconsultation_id, requester)
    assert (dict(h.provider.rooms), dict(h.provider.users)) == (rooms, users)
    assert (await h.store.teleconsultations.get(teleconsultation_id)).version == stored.version


def test_the_audit_trail_is_open_to_the_auditor_groups_only() -> None:
    policy = AuthorizationPolicy(
        scheduling_groups=None, settings_admin_groups=frozenset({"doctor"}), auditor_groups=frozenset({"auditor"})
    )
    auditor = Requester(("aud-1",), groups=("auditor",))
    assert policy.decide(Action.READ_AUDIT, auditor) is Decision.ALLOWED
    assert policy.decide(Action.READ_AUDIT, REQUESTERS["doctor"]) is Decision.FORBIDDEN
    assert policy.decide(Action.READ_AUDIT, Requester((), groups=("auditor",))) is Decision.UNAUTHORIZED
    assert policy.decide(Action.READ_AUDIT, None) is Decision.UNAUTHORIZED
