"""Unit tests of token verification (HS256 development tokens; RS256 through a real JWKS endpoint)."""
import http.server
import json
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared import config
from shared.auth import AuthError, TokenVerifier, mint


@pytest.fixture
def settings(monkeypatch):
    monkeypatch.delenv("SMARTCITY_JWT_JWKS_URL", raising=False)
    return config.load("ideas")


def test_minted_token_verifies_with_subject_and_roles(settings):
    principal = TokenVerifier(settings).verify(mint(settings.jwt_secret, "u-42", ["citizen", "staff"]))
    assert principal.subject == "u-42"
    assert principal.roles == {"citizen", "staff"}
    assert principal.has_any(["staff"]) and not principal.has_any(["moderator"])


def test_admin_has_every_role(settings):
    admin = TokenVerifier(settings).verify(mint(settings.jwt_secret, "root", ["admin"]))
    assert admin.has_any(["moderator"]) and admin.has_any(["board_member"])


def test_mint_refuses_unknown_roles(settings):
    with pytest.raises(ValueError, match="unknown roles"):
        mint(settings.jwt_secret, "u", ["emperor"])


@pytest.mark.parametrize("make_token,message", [
    (lambda s: mint("another-secret-entirely", "u", ["staff"]), "invalid token"),
    (lambda s: mint(s.jwt_secret, "u", ["staff"], ttl_seconds=-10), "expired"),
    (lambda s: jwt.encode({"roles": ["staff"], "exp": time.time() + 60}, s.jwt_secret, "HS256"), "invalid token"),
    (lambda s: jwt.encode({"sub": "u", "roles": "staff", "exp": time.time() + 60}, s.jwt_secret, "HS256"),
     "roles must be a list"),
    (lambda s: jwt.encode({"sub": "u", "roles": [], "exp": time.time() + 60}, None, "none"), "invalid token"),
    (lambda s: "garbage", "invalid token"),
])
def test_forged_expired_and_malformed_tokens_get_401(settings, make_token, message):
    with pytest.raises(AuthError, match=message) as refused:
        TokenVerifier(settings).verify(make_token(settings))
    assert refused.value.status == 401


def test_authorization_header_must_be_bearer(settings):
    verifier = TokenVerifier(settings)
    assert verifier.from_header(None) is None
    with pytest.raises(AuthError):
        verifier.from_header("Basic dXNlcjpwYXNz")


def test_production_refuses_the_development_secret(monkeypatch):
    monkeypatch.setenv("SMARTCITY_ENV", "production")
    monkeypatch.delenv("SMARTCITY_JWT_SECRET", raising=False)
    with pytest.raises(RuntimeError, match="production"):
        config.load("ideas")


@pytest.fixture
def jwks_server():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield key, f"http://127.0.0.1:{server.server_port}/jwks.json"
    server.shutdown()


def test_rs256_tokens_verify_against_the_identity_providers_jwks(monkeypatch, jwks_server):
    key, url = jwks_server
    monkeypatch.setenv("SMARTCITY_JWT_JWKS_URL", url)
    monkeypatch.setenv("SMARTCITY_JWT_AUDIENCE", "smartcity")
    verifier = TokenVerifier(config.load("ideas"))
    claims = {"sub": "idp-user", "roles": ["moderator"], "aud": "smartcity", "exp": time.time() + 60}
    token = jwt.encode(claims, key, "RS256", headers={"kid": "k1"})
    assert verifier.verify(token).roles == {"moderator"}
    # an HS256 token signed with the development secret is refused once a JWKS is configured
    with pytest.raises(AuthError):
        verifier.verify(mint(config.DEV_JWT_SECRET, "u", ["admin"], audience="smartcity"))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(AuthError):
        verifier.verify(jwt.encode(claims, other, "RS256", headers={"kid": "k1"}))


# --- issue 11: audience and issuer, lifetime, the production setting ------------------------------

def test_a_token_without_the_configured_audience_or_issuer_is_refused(monkeypatch):
    monkeypatch.delenv("SMARTCITY_JWT_JWKS_URL", raising=False)
    monkeypatch.setenv("SMARTCITY_JWT_AUDIENCE", "smartcity")
    monkeypatch.setenv("SMARTCITY_JWT_ISSUER", "https://login.example.org/realms/city")
    settings = config.load("ideas")
    verifier = TokenVerifier(settings)
    good = mint(settings.jwt_secret, "u", ["citizen"], issuer=settings.jwt_issuer, audience="smartcity")
    assert verifier.verify(good).subject == "u"
    for token in (mint(settings.jwt_secret, "u", ["citizen"], issuer=settings.jwt_issuer),
                  mint(settings.jwt_secret, "u", ["citizen"], audience="smartcity"),
                  mint(settings.jwt_secret, "u", ["citizen"], issuer=settings.jwt_issuer, audience="another-app"),
                  mint(settings.jwt_secret, "u", ["citizen"], issuer="https://evil.example", audience="smartcity")):
        with pytest.raises(AuthError) as refused:
            verifier.verify(token)
        assert refused.value.status == 401


def test_a_token_that_lives_longer_than_the_maximum_is_refused(settings):
    verifier = TokenVerifier(settings)
    assert verifier.verify(mint(settings.jwt_secret, "u", ["citizen"], ttl_seconds=settings.jwt_max_ttl_seconds))
    with pytest.raises(AuthError, match="lives longer"):
        verifier.verify(mint(settings.jwt_secret, "u", ["citizen"], ttl_seconds=100 * 365 * 24 * 3600))
    # without iat, the time left counts
    claims = {"sub": "u", "roles": ["citizen"], "exp": int(time.time()) + 10 * 365 * 24 * 3600}
    with pytest.raises(AuthError, match="lives longer"):
        verifier.verify(jwt.encode(claims, settings.jwt_secret, "HS256"))
    # an iat in the future does not stretch the lifetime
    with pytest.raises(AuthError):
        verifier.verify(jwt.encode({**claims, "iat": claims["exp"] - 60}, settings.jwt_secret, "HS256"))


@pytest.mark.parametrize("value", ["prod", "Production", "staging"])
def test_an_environment_name_that_is_not_known_stops_the_service(monkeypatch, value):
    monkeypatch.setenv("SMARTCITY_ENV", value)
    with pytest.raises(RuntimeError, match="SMARTCITY_ENV must be one of development, production"):
        config.load("ideas")


def test_production_needs_issuer_and_audience(monkeypatch):
    monkeypatch.setenv("SMARTCITY_ENV", "production")
    monkeypatch.setenv("SMARTCITY_JWT_JWKS_URL", "https://login.example.org/realms/city/protocol/openid-connect/certs")
    monkeypatch.delenv("SMARTCITY_JWT_ISSUER", raising=False)
    monkeypatch.delenv("SMARTCITY_JWT_AUDIENCE", raising=False)
    with pytest.raises(RuntimeError, match="SMARTCITY_JWT_ISSUER, SMARTCITY_JWT_AUDIENCE"):
        config.load("ideas")
    monkeypatch.setenv("SMARTCITY_JWT_ISSUER", "https://login.example.org/realms/city")
    monkeypatch.setenv("SMARTCITY_JWT_AUDIENCE", "smartcity")
    # and, as every production service, credentials of its own (tests/shared/test_identities.py)
    monkeypatch.setenv("SMARTCITY_IDEAS_AMQP_URI", "amqp://ideas:Xk3-broker@rabbitmq:5672/")
    monkeypatch.setenv("SMARTCITY_IDEAS_DATABASE_URL", "postgresql://smartcity_ideas_app:Xk3@postgres/smartcity_ideas")
    monkeypatch.delenv("SMARTCITY_IDEAS_MIGRATION_DATABASE_URL", raising=False)
    assert config.load("ideas").environment == "production"
