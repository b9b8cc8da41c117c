"""Which language and background a participant's link asks for: the rules, then the use case."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from application.dto import LinkOptions, Requester
from application.join_links import LinkPreferences, choose_link_options, supported_language
from tests.application.harness import Harness, create_command, doctor, patient
from tests.builders import T0, make_participant

languages = st.one_of(st.none(), st.sampled_from(["it", "en", "IT", " en ", "fr", "de", "", "italian"]), st.text())
groups = st.lists(st.sampled_from(["doctor", "patient", "nurse", "vip", "staff"]), max_size=3).map(tuple)


@given(asked=languages, own=languages, use_background=st.booleans())
def test_the_asked_language_wins_then_the_participants_then_the_company_default(
    asked: str | None, own: str | None, use_background: bool
) -> None:
    participant = make_participant(language=own)

    options = choose_link_options(LinkPreferences(use_background, asked), participant, (), frozenset())

    assert options.language in {None, "it", "en"}
    if supported_language(asked) is not None:
        assert options.language == supported_language(asked)
    elif supported_language(own) is not None:
        assert options.language == supported_language(own)
    else:
        assert options.language is None


@given(
    use_background=st.booleans(),
    requester_groups=groups,
    participant_groups=groups,
    background_groups=groups.map(frozenset),
)
def test_the_background_is_used_when_asked_or_when_a_group_always_has_it(
    use_background: bool,
    requester_groups: tuple[str, ...],
    participant_groups: tuple[str, ...],
    background_groups: frozenset[str],
) -> None:
    participant = make_participant(groups=participant_groups)

    options = choose_link_options(
        LinkPreferences(use_background=use_background), participant, requester_groups, background_groups
    )

    in_group = bool(background_groups & {*requester_groups, *participant_groups})
    assert options.virtual_background is (use_background or in_group)


def test_supported_languages_are_only_italian_and_english() -> None:
    assert [supported_language(v) for v in ("it", "EN", " it ", "fr", "", None)] == ["it", "en", "it", None, None, None]


async def links(h: Harness, requester: Requester, preferences: LinkPreferences | None = None) -> tuple[str, str]:
    """The link the requester is given, and the one stored for them."""
    teleconsultation_id = await h.create.execute(create_command(doctor(language=None), patient()))
    h.clock.set(T0)
    given_link = (await h.get.execute(teleconsultation_id, requester, preferences)).access_link
    stored = await h.store.teleconsultations.get(teleconsultation_id)
    own = stored.participant(requester.user_ids)
    assert given_link is not None
    assert own is not None
    assert own.access_link is not None
    return given_link, own.access_link


async def test_the_stored_link_is_personalised_by_the_provider() -> None:
    h = Harness()
    given_link, stored = await links(h, Requester(("pat-1",)), LinkPreferences(use_background=True, language="EN"))
    assert given_link == h.provider.personalise(stored, LinkOptions("en", True))
    assert given_link == f"{stored}?language=en&virtual_background=image"


async def test_without_preferences_the_participants_language_is_used() -> None:
    given_link, stored = await links(Harness(), Requester(("pat-1",)))
    assert given_link == f"{stored}?language=it"


async def test_a_participant_without_language_and_no_valid_ask_gets_the_plain_link() -> None:
    given_link, stored = await links(Harness(), Requester(("doc-1",)), LinkPreferences(language="fr"))
    assert given_link == stored


async def test_background_groups_come_from_the_requester_and_from_the_stored_participant() -> None:
    h = Harness(background_groups=frozenset({"vip"}))
    given_link, stored = await links(h, Requester(("doc-1",), groups=("vip",)))
    assert given_link == f"{stored}?virtual_background=image"

    h = Harness(background_groups=frozenset({"patient"}))
    given_link, stored = await links(h, Requester(("pat-1",)))
    assert given_link == f"{stored}?language=it&virtual_background=image"


async def test_a_hidden_link_stays_hidden_whatever_is_asked() -> None:
    h = Harness(immutable_period=timedelta(minutes=5))
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    access = await h.get.execute(teleconsultation_id, Requester(("pat-1",)), LinkPreferences(True, "en"))
    assert access.access_link is None
