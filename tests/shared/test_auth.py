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
