"""How each provider personalises a stored join link: language and company background."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from adapters.jitsi import JitsiVideoProvider
from adapters.kaleyra import KaleyraVideoProvider
from adapters.memory.video_provider import InMemoryVideoProvider
from application.dto import LinkOptions
from application.ports import JoinLinks

KALEYRA_LINK = "https://k.invalid/eu/direct-rest-call-handler/abc?token=a%2Bb#top"
JITSI_LINK = "https://meet.invalid/0a1b2c?jwt=aaa.bbb.ccc"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (LinkOptions(), KALEYRA_LINK),
        (LinkOptions(language="it"), "https://k.invalid/eu/direct-rest-call-handler/abc?token=a%2Bb&language=it#top"),
        (
            LinkOptions(language="en", virtual_background=True),
            "https://k.invalid/eu/direct-rest-call-handler/abc?token=a%2Bb&language=en&virtual_background=image#top",
        ),
        (
            LinkOptions(virtual_background=True),
            "https://k.invalid/eu/direct-rest-call-handler/abc?token=a%2Bb&virtual_background=image#top",
        ),
    ],
)
def test_kaleyra_links_ask_in_the_query_and_keep_what_they_had(
    kaleyra: KaleyraVideoProvider, options: LinkOptions, expected: str
) -> None:
    assert kaleyra.personalise(KALEYRA_LINK, options) == expected


def test_a_kaleyra_link_asking_for_a_language_already_gets_the_chosen_one(kaleyra: KaleyraVideoProvider) -> None:
    link = "https://k.invalid/call/abc?language=en"
    assert kaleyra.personalise(link, LinkOptions(language="it")) == "https://k.invalid/call/abc?language=it"


def test_jitsi_links_ask_for_the_language_in_the_fragment_and_ignore_the_background() -> None:
    jitsi = JitsiVideoProvider()

    assert jitsi.personalise(JITSI_LINK, LinkOptions(virtual_background=True)) == JITSI_LINK
    personalised = URL(jitsi.personalise(JITSI_LINK, LinkOptions(language="it", virtual_background=True)))
    assert personalised.query == {"jwt": "aaa.bbb.ccc"}
    assert personalised.fragment == 'config.defaultLanguage="it"'


def test_jitsi_keeps_config_overrides_the_link_already_had_byte_for_byte() -> None:
    link = "https://meet.invalid/r?jwt=a.b.c==#config.startWithAudioMuted=true&config.subject=%22A%26B%22"

    personalised = JitsiVideoProvider().personalise(link, LinkOptions(language="en"))

    assert personalised.startswith(link + "&")
    # Split the way Jitsi does: pairs on raw `&`, then each value percent-decoded and read as JSON.
    pairs = dict(pair.split("=", 1) for pair in personalised.partition("#")[2].split("&"))
    assert {name: json.loads(unquote(value)) for name, value in pairs.items()} == {
        "config.startWithAudioMuted": True,
        "config.subject": "A&B",
        "config.defaultLanguage": "en",
    }


def test_kaleyra_appends_without_re_escaping_the_query(kaleyra: KaleyraVideoProvider) -> None:
    link = "https://k.invalid/call/abc?jwt=a.b.c==&x=%7E"
    assert kaleyra.personalise(link, LinkOptions(language="it")) == link + "&language=it"


@given(
    language=st.sampled_from([None, "it", "en"]),
    background=st.booleans(),
    token=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~%", min_size=1, max_size=20),
)
def test_personalising_never_loses_the_original_query(language: str | None, background: bool, token: str) -> None:
    link = f"https://video.invalid/rooms/r1/u1?t={token}"
    options = LinkOptions(language=language, virtual_background=background)
    memory, jitsi = InMemoryVideoProvider(), JitsiVideoProvider()
    providers: list[JoinLinks] = [memory, jitsi]
    for provider in providers:
        personalised = provider.personalise(link, options)
        assert personalised.startswith(link)
        asks_nothing = language is None and (not background or provider is jitsi)
        assert (personalised == link) is asks_nothing
