"""JWT bearer tokens: claims `sub` and `roles`.

Development tokens are HS256 with SMARTCITY_JWT_SECRET. With SMARTCITY_JWT_JWKS_URL set,
RS256 tokens from the identity provider are verified against its published keys instead.
When SMARTCITY_JWT_ISSUER / SMARTCITY_JWT_AUDIENCE are set (production requires both), a token
must carry that `iss` / `aud`: another client of the same identity provider cannot sign in
here. No token lives longer than SMARTCITY_JWT_MAX_TTL_SECONDS from its `iat` (or from now).
"""
import time
import warnings
from dataclasses import dataclass

import jwt

from shared.input_guard import text_problem

# The documented development default is shorter than RFC 7518 recommends; production refuses
# to start with it (shared.config), so the warning would only be noise here.
warnings.filterwarnings("ignore", category=jwt.warnings.InsecureKeyLengthWarning)

ROLES = ("citizen", "moderator", "staff", "board_member", "admin")
MAX_SUBJECT_LENGTH = 255


class AuthError(Exception):
    """status 401: no or invalid token; 403: valid token without the needed role."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset

    def has_any(self, roles):
        return "admin" in self.roles or bool(self.roles & set(roles))


class TokenVerifier:
    def __init__(self, settings):
        self.settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True) if settings.jwt_jwks_url else None

    def verify(self, token):
        options = {"require": ["sub", "exp"]}
        kwargs = {}
        if self.settings.jwt_audience:
            kwargs["audience"] = self.settings.jwt_audience
            options["require"].append("aud")
        if self.settings.jwt_issuer:
            kwargs["issuer"] = self.settings.jwt_issuer
            options["require"].append("iss")
        try:
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(token, key, algorithms=["RS256"], options=options, **kwargs)
            else:
                claims = jwt.decode(token, self.settings.jwt_secret, algorithms=["HS256"], options=options, **kwargs)
        except jwt.ExpiredSignatureError:
            raise AuthError(401, "token expired") from None
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
            raise AuthError(401, f"invalid token: {exc}") from None
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise AuthError(401, "invalid token: roles must be a list of strings")
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject or len(subject) > MAX_SUBJECT_LENGTH or text_problem(subject):
            raise AuthError(401, f"invalid token: sub must be text of 1 to {MAX_SUBJECT_LENGTH} characters")
        self._check_lifetime(claims)
        return Principal(subject=subject, roles=frozenset(r for r in roles if r in ROLES))

    def _check_lifetime(self, claims):
        """Refuse a token meant to live longer than allowed: a stolen one would be good for years."""
        # PyJWT has checked that both are integers (possibly as strings) and `iat` is not in the future
        lifetime = int(claims["exp"]) - int(claims.get("iat", time.time()))
        if lifetime > self.settings.jwt_max_ttl_seconds:
            raise AuthError(401, f"invalid token: lives longer than {self.settings.jwt_max_ttl_seconds} s")

    def from_header(self, header):
        """The Principal of an `Authorization: Bearer …` header; None when there is no header."""
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(401, "Authorization header must be 'Bearer <token>'")
        return self.verify(token.strip())


def mint(secret, subject, roles, ttl_seconds=3600, issuer=None, audience=None):
    """An HS256 development token (the `smartcity token` command)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(sorted(unknown))} (known: {', '.join(ROLES)})")
    now = int(time.time())
    claims = {"sub": subject, "roles": list(roles), "iat": now, "exp": now + int(ttl_seconds)}
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")
