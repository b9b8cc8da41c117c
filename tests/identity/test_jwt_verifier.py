"""JwksTokenVerifier against a fake JWKS: the tokens it accepts and every way a token is refused."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.identity import JwksTokenVerifier
from application.dto import VerifiedIdentity
from tests.fakes.jwks import FakeJwks, SigningKey, hs256_token, raw_token, signing_key, unsigned_token
from tests.identity.conftest import NOW, claims, rejected

MakeVerifier = Callable[..., JwksTokenVerifier]


async def test_an_rs256_token_gives_its_user_and_group_list(verifier: JwksTokenVerifier, rsa_key: SigningKey) -> None:
    token = rsa_key.mint(claims(groups=["doctor", "admin"]))

    assert await verifier.verify(token) == VerifiedIdentity("auth0|alice", ("doctor", "admin"))


async def test_an_es256_token_with_comma_separated_groups(verifier: JwksTokenVerifier, ec_key: SigningKey) -> None:
    token = ec_key.mint(claims(groups="patient, plus ,"))

    assert await verifier.verify(token) == VerifiedIdentity("auth0|alice", ("patient", "plus"))


async def test_keys_published_without_alg_still_work(
    verifier: JwksTokenVerifier, idp: FakeJwks, rsa_key: SigningKey, ec_key: SigningKey
) -> None:
    idp.state.with_alg = False

    assert (await verifier.verify(rsa_key.mint(claims()))).user_id == "auth0|alice"
    assert (await verifier.verify(ec_key.mint(claims()))).user_id == "auth0|alice"


async def test_claims_may_be_namespaced_dotted_paths(make_verifier: MakeVerifier, rsa_key: SigningKey) -> None:
    verifier = make_verifier(user_id_claim="user.id", groups_claim="https://mia-platform.eu/app_metadata.groups")
    token = rsa_key.mint(
        claims(user={"id": "u-7"}, groups=None, **{"https://mia-platform.eu/app_metadata": {"groups": ["nurse"]}})
    )

    assert await verifier.verify(token) == VerifiedIdentity("u-7", ("nurse",))


async def test_a_token_without_groups_has_none(verifier: JwksTokenVerifier, rsa_key: SigningKey) -> None:
    assert (await verifier.verify(rsa_key.mint(claims(groups=None)))).groups == ()


@pytest.mark.parametrize(
    ("grants", "scopes"),
    [
        ({"scope": "openid teleconsultation:schedule"}, ("openid", "teleconsultation:schedule")),  # RFC 9068
        ({"scp": ["teleconsultation:schedule", "reports:read"]}, ("teleconsultation:schedule", "reports:read")),
        ({"scp": "a b", "scope": "c a"}, ("c", "a", "b")),
        ({"scope": 7, "scp": [None, {"x": 1}]}, ()),  # anything but text grants nothing
        ({}, ()),
    ],
)
async def test_the_scopes_a_token_grants(
    verifier: JwksTokenVerifier, rsa_key: SigningKey, grants: dict[str, Any], scopes: tuple[str, ...]
) -> None:
    assert (await verifier.verify(rsa_key.mint(claims(**grants)))).scopes == scopes


async def test_the_leeway_absorbs_small_clock_differences(verifier: JwksTokenVerifier, rsa_key: SigningKey) -> None:
    token = rsa_key.mint(claims(exp=int(NOW) - 20, iat=int(NOW) + 20, nbf=int(NOW) + 20))

    assert (await verifier.verify(token)).user_id == "auth0|alice"


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"exp": int(NOW) - 31}, id="expired"),
        pytest.param({"exp": None}, id="no-exp"),
        pytest.param({"exp": "tomorrow"}, id="exp-not-a-number"),
        pytest.param({"exp": 10**400}, id="exp-too-large"),
        pytest.param({"nbf": int(NOW) + 60}, id="not-yet-valid"),
        pytest.param({"iat": int(NOW) + 60}, id="issued-in-the-future"),
        pytest.param({"aud": "another-service"}, id="wrong-audience"),
        pytest.param({"aud": None}, id="no-audience"),
        pytest.param({"iss": "https://evil.example/"}, id="wrong-issuer"),
        pytest.param({"iss": None}, id="no-issuer"),
        pytest.param({"sub": None}, id="no-user-id"),
        pytest.param({"sub": ""}, id="blank-user-id"),
    ],
)
async def test_tokens_with_bad_claims_are_refused(
    verifier: JwksTokenVerifier, rsa_key: SigningKey, overrides: dict[str, Any]
) -> None:
    await rejected(verifier, rsa_key.mint(claims(**overrides)))


async def test_a_signature_by_another_key_under_the_same_kid_is_refused(
    verifier: JwksTokenVerifier, rsa_key: SigningKey
) -> None:
    impostor = signing_key(rsa_key.kid, "RSA", label="impostor")

    await rejected(verifier, impostor.mint(claims()))


async def test_an_unsigned_token_is_refused(verifier: JwksTokenVerifier, rsa_key: SigningKey) -> None:
    await rejected(verifier, unsigned_token(claims(), kid=rsa_key.kid))


@pytest.mark.parametrize("material", ["pem", "jwk"])
async def test_hs256_signed_with_the_public_key_is_refused(
    verifier: JwksTokenVerifier, idp: FakeJwks, rsa_key: SigningKey, material: str
) -> None:
    secret = rsa_key.public_pem() if material == "pem" else json.dumps(rsa_key.public_jwk()).encode()

    await rejected(verifier, hs256_token(claims(), kid=rsa_key.kid, secret=secret))
    assert idp.state.fetches == 0  # refused on its algorithm alone


async def test_the_token_cannot_pick_an_algorithm_its_key_is_not_for(
    verifier: JwksTokenVerifier, rsa_key: SigningKey, ec_key: SigningKey
) -> None:
    # A valid RS256 signature, but the header points at the EC key.
    await rejected(verifier, rsa_key.mint(claims(), headers={"kid": ec_key.kid}))


async def test_an_allowed_but_unconfigured_algorithm_is_refused(
    make_verifier: MakeVerifier, rsa_key: SigningKey
) -> None:
    await rejected(make_verifier(algorithms=("ES256",)), rsa_key.mint(claims()))


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "e30.e30.", "x" * 20000, raw_token({"alg": "RS256"}, {})])
async def test_malformed_tokens_are_refused_without_fetching_keys(
    verifier: JwksTokenVerifier, idp: FakeJwks, token: str
) -> None:
    await rejected(verifier, token)
    assert idp.state.fetches == 0


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(max_size=300))
async def test_arbitrary_text_is_refused_never_crashes(verifier: JwksTokenVerifier, token: str) -> None:
    await rejected(verifier, token)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    extra_header=st.dictionaries(st.sampled_from(["typ", "crit", "b64", "jku", "x5u", "cty", "zip"]), json_values),
    payload=st.dictionaries(st.sampled_from(["exp", "nbf", "iat", "iss", "aud", "sub", "groups"]), json_values),
    signature=st.binary(max_size=300),
    alg_and_kid=st.sampled_from([("RS256", "rsa-1"), ("ES256", "ec-1"), ("ES256", "rsa-1"), ("RS256", "nope")]),
)
async def test_forged_tokens_are_refused_never_crash(
    verifier: JwksTokenVerifier,
    extra_header: dict[str, Any],
    payload: dict[str, Any],
    signature: bytes,
    alg_and_kid: tuple[str, str],
) -> None:
    algorithm, kid = alg_and_kid
    token = raw_token({**extra_header, "alg": algorithm, "kid": kid}, payload, lambda _: signature)

    await rejected(verifier, token)


async def test_rejections_are_logged_at_debug_without_the_token(
    verifier: JwksTokenVerifier, rsa_key: SigningKey, caplog: pytest.LogCaptureFixture
) -> None:
    token = rsa_key.mint(claims(aud="another-service"))

    with caplog.at_level(logging.DEBUG, logger="adapters.identity"):
        await rejected(verifier, token)

    ours = [record for record in caplog.records if record.name.startswith("adapters.identity")]
    assert [record.levelno for record in ours] == [logging.DEBUG]
    assert "InvalidAudienceError" in caplog.text
    assert token not in caplog.text
