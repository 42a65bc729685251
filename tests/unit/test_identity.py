"""Customer identity tokens: only a valid, unexpired token signed with our secret names a customer."""
import jwt
import pytest

from bot import identity

SECRET = "unit-test-secret-" + "s" * 20


def test_a_fresh_token_names_its_customer():
    assert identity.verify_token(identity.issue_token("C001", secret=SECRET), secret=SECRET) == "C001"


@pytest.mark.parametrize("token", [
    None, "", "not-a-jwt", 42, "x" * 5000,
    jwt.encode({"sub": "C001", "iss": "shili-bank", "exp": 1}, SECRET, algorithm="HS256"),  # expired
    jwt.encode({"sub": "C001", "iss": "someone-else", "exp": 4_000_000_000}, SECRET, algorithm="HS256"),
    jwt.encode({"sub": "C001", "iss": "shili-bank"}, SECRET, algorithm="HS256"),  # no expiry
    jwt.encode({"sub": "C001", "iss": "shili-bank", "exp": 4_000_000_000}, "other-secret-" + "o" * 20,
               algorithm="HS256"),
])
def test_anything_else_names_nobody(token):
    assert identity.verify_token(token, secret=SECRET) is None


def test_unsigned_tokens_are_rejected():
    unsigned = jwt.encode({"sub": "C001", "iss": "shili-bank", "exp": 4_000_000_000}, None, algorithm="none")
    assert identity.verify_token(unsigned, secret=SECRET) is None


def test_generated_secret_is_kept_private_and_stable(monkeypatch, tmp_path):
    monkeypatch.delenv("CUSTOMER_TOKEN_SECRET", raising=False)
    monkeypatch.setenv("ASSISTANT_SECRETS_DIR", str(tmp_path))
    first = identity.token_secret()
    assert first == identity.token_secret() and len(first) >= 32
    assert (tmp_path / "customer_token.secret").stat().st_mode & 0o077 == 0


def test_a_short_configured_secret_is_refused(monkeypatch):
    monkeypatch.setenv("CUSTOMER_TOKEN_SECRET", "short")
    with pytest.raises(ValueError, match="at least 32"):
        identity.token_secret()


def test_cli_prints_a_verifiable_token(monkeypatch, capsys):
    monkeypatch.setenv("CUSTOMER_TOKEN_SECRET", SECRET)
    assert identity.main(["issue", "C002", "--ttl", "60"]) == 0
    assert identity.verify_token(capsys.readouterr().out.strip()) == "C002"


def test_purpose_tickets_and_customer_tokens_are_not_interchangeable():
    ticket = identity.issue_token("o_wechat_user", secret=SECRET, purpose="wechat_bind")
    assert identity.verify_token(ticket, secret=SECRET, purpose="wechat_bind") == "o_wechat_user"
    assert identity.verify_token(ticket, secret=SECRET) is None  # a ticket never logs anyone in
    customer = identity.issue_token("C001", secret=SECRET)
    assert identity.verify_token(customer, secret=SECRET, purpose="wechat_bind") is None
