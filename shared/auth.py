"""JWT bearer tokens: claims `sub` and `roles`.

Development tokens are HS256 with SMARTCITY_JWT_SECRET. With SMARTCITY_JWT_JWKS_URL set,
RS256 tokens from the identity provider are verified against its published keys instead.
"""
import time
import warnings
from dataclasses import dataclass

import jwt

# The documented development default is shorter than RFC 7518 recommends; production refuses
# to start with it (shared.config), so the warning would only be noise here.
warnings.filterwarnings("ignore", category=jwt.warnings.InsecureKeyLengthWarning)

ROLES = ("citizen", "moderator", "staff", "board_member", "admin")


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
        if self.settings.jwt_issuer:
            kwargs["issuer"] = self.settings.jwt_issuer
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
        if not isinstance(subject, str) or not subject:
            raise AuthError(401, "invalid token: sub must be a non-empty string")
        return Principal(subject=subject, roles=frozenset(r for r in roles if r in ROLES))

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
