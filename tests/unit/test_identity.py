"""Customer identity: tokens verified by channels, seals bound to one message of one conversation."""
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bot import identity

SECRET = "unit-test-secret-" + "s" * 20
AUD = "shili-bank-assistant"


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    for name in ("CUSTOMER_TOKEN_ALGORITHM", "CUSTOMER_TOKEN_PUBLIC_KEY", "CUSTOMER_TOKEN_PUBLIC_KEY_FILE",
                 "CUSTOMER_TOKEN_AUDIENCE", "IDENTITY_SEAL_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ASSISTANT_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("CUSTOMER_TOKEN_SECRET", SECRET)


def _claims(**over):
    claims = {"sub": "C001", "iss": "shili-bank", "aud": AUD, "exp": int(time.time()) + 600, "jti": "j-1"}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def test_a_fresh_token_names_its_customer_with_expiry_and_jti():
    verified = identity.verify_customer_token(identity.issue_token("C001", ttl_s=60))
    assert verified.customer_id == "C001" and verified.jti and verified.expires_at <= time.time() + 61


# Named ids: a token's text holds the current time, and the two test workers must collect the same tests.
@pytest.mark.parametrize("token", [
    pytest.param(None, id="none"), pytest.param("", id="empty"), pytest.param("not-a-jwt", id="not-a-jwt"),
    pytest.param(42, id="number"), pytest.param("x" * 5000, id="too-long"),
    pytest.param(jwt.encode(_claims(exp=1), SECRET, algorithm="HS256"), id="expired"),
    pytest.param(jwt.encode(_claims(iss="someone-else"), SECRET, algorithm="HS256"), id="other-issuer"),
    pytest.param(jwt.encode(_claims(aud="another-service"), SECRET, algorithm="HS256"), id="other-audience"),
    pytest.param(jwt.encode(_claims(aud=None), SECRET, algorithm="HS256"), id="no-audience"),
    pytest.param(jwt.encode(_claims(jti=None), SECRET, algorithm="HS256"), id="no-jti"),
    pytest.param(jwt.encode(_claims(exp=None), SECRET, algorithm="HS256"), id="no-expiry"),
    pytest.param(jwt.encode(_claims(), "other-secret-" + "o" * 20, algorithm="HS256"), id="other-secret"),
    pytest.param(jwt.encode(_claims(), None, algorithm="none"), id="unsigned"),
])
def test_anything_else_names_nobody(token):
    assert identity.verify_customer_token(token) is None


def test_purpose_tickets_and_customer_tokens_are_not_interchangeable():
    ticket = identity.issue_token("o_wechat_user", purpose="wechat_bind")
    assert identity.verify_token(ticket, purpose="wechat_bind") == "o_wechat_user"
    assert identity.verify_token(ticket) is None  # a ticket never logs anyone in
    assert identity.verify_token(identity.issue_token("C001"), purpose="wechat_bind") is None


@pytest.mark.parametrize("algorithm,private_key", [
    ("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    ("ES256", ec.generate_private_key(ec.SECP256R1())),
])
def test_tokens_signed_by_the_bank_app_with_an_asymmetric_key(monkeypatch, tmp_path, algorithm, private_key):
    public_pem = private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "app.pub").write_bytes(public_pem)
    monkeypatch.setenv("CUSTOMER_TOKEN_ALGORITHM", algorithm)
    monkeypatch.setenv("CUSTOMER_TOKEN_PUBLIC_KEY_FILE", str(tmp_path / "app.pub"))
    good = jwt.encode(_claims(), private_key, algorithm=algorithm)
    assert identity.verify_customer_token(good).customer_id == "C001"
    # the demo HS256 secret (or the public key used as an HMAC secret) no longer logs anyone in
    assert identity.verify_customer_token(jwt.encode(_claims(), SECRET, algorithm="HS256")) is None
    assert identity.verify_customer_token(_hs256_by_hand(_claims(), public_pem)) is None


def _hs256_by_hand(claims, key: bytes) -> str:
    """The algorithm-confusion attack: HS256 keyed with the public key (PyJWT will not sign it)."""
    import hashlib
    import hmac
    import json

    from jwt.utils import base64url_encode

    head = base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = base64url_encode(json.dumps(claims).encode())
    signature = base64url_encode(hmac.new(key, head + b"." + body, hashlib.sha256).digest())
    return (head + b"." + body + b"." + signature).decode()


def test_an_asymmetric_algorithm_without_a_public_key_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("CUSTOMER_TOKEN_ALGORITHM", "RS256")
    with pytest.raises(ValueError, match="PEM public key"):
        identity.verify_customer_token("x.y.z")


def _event(sender="rest:a", message_id="m1", customer="C001", channel="rest", **seal_over):
    metadata = identity.identity_metadata(customer, channel, sender, message_id)
    metadata.get(identity.IDENTITY_METADATA_KEY, {}).update(seal_over)
    return {"event": "user", "message_id": message_id, "metadata": metadata}


def test_a_seal_names_the_customer_of_its_own_message_only():
    assert identity.customer_from_user_event("rest:a", _event()) == "C001"
    assert identity.customer_from_user_event("rest:b", _event()) is None  # another conversation
    moved = _event()
    moved["message_id"] = "m2"  # copied onto another message
    assert identity.customer_from_user_event("rest:a", moved) is None


def test_a_seal_of_one_channel_does_not_work_on_another_channels_conversation():
    event = _event(sender="webchat:a", channel="rest")
    assert identity.customer_from_user_event("webchat:a", event) is None


@pytest.mark.parametrize("tamper", [{"customer_id": "C002"}, {"exp": int(time.time()) + 10_000},
                                    {"mac": "0" * 64}, {"channel": "webchat"}, {"exp": "soon"}])
def test_a_tampered_seal_names_nobody(tamper):
    assert identity.customer_from_user_event("rest:a", _event(**tamper)) is None


def test_an_expired_seal_names_nobody():
    metadata = identity.identity_metadata("C001", "rest", "rest:a", "m1", expires_at=time.time() - 1)
    assert identity.customer_from_user_event("rest:a", {"message_id": "m1", "metadata": metadata}) is None


def test_a_seal_made_with_another_installations_secret_names_nobody(monkeypatch, tmp_path):
    event = _event()
    monkeypatch.setenv("ASSISTANT_SECRETS_DIR", str(tmp_path / "other"))
    assert identity.customer_from_user_event("rest:a", event) is None


def test_nothing_is_inherited_from_an_earlier_message():
    logged_in, anonymous = _event(message_id="m1"), {"event": "user", "message_id": "m2", "metadata": {}}
    assert identity.current_customer("rest:a", [logged_in]) == "C001"
    assert identity.current_customer("rest:a", [logged_in, {"event": "bot"}, anonymous]) is None


def test_client_metadata_cannot_carry_an_identity():
    sneaky = {"verified_identity": {"customer_id": "C001"}, "customer_token": "t", "locale": "zh"}
    assert identity.strip_reserved(sneaky) == {"locale": "zh"}
    assert identity.strip_reserved("not a mapping") == {}


def test_generated_secrets_are_kept_private_and_stable(monkeypatch, tmp_path):
    monkeypatch.delenv("CUSTOMER_TOKEN_SECRET", raising=False)
    first = identity.token_secret()
    assert first == identity.token_secret() and len(first) >= 32
    assert (tmp_path / "customer_token.secret").stat().st_mode & 0o077 == 0
    identity.seal("C001", "rest", "rest:a", "m1")
    assert (tmp_path / "identity_seal.secret").stat().st_mode & 0o077 == 0


def test_a_short_configured_secret_is_refused(monkeypatch):
    monkeypatch.setenv("CUSTOMER_TOKEN_SECRET", "short")
    with pytest.raises(ValueError, match="at least 32"):
        identity.token_secret()


def test_cli_prints_a_verifiable_token(capsys):
    assert identity.main(["issue", "C002", "--ttl", "60"]) == 0
    assert identity.verify_token(capsys.readouterr().out.strip()) == "C002"
