"""Authentication: roles, argon2 password hashes (pwdlib), JWT access tokens (pyjwt), the
password and username policies, and token revocation.

A token carries its user's `token_version` (claim `ver`); every change that must end a
session (a new password, other roles, disabling, removing) increments the version on the
`(:User)` node, and a token of another version is refused. The check costs one small read
per user every ``token_version_cache_s`` (an in-process cache), and changes made through this
process clear the cache at once.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import jwt
from neo4j import Driver
from pwdlib import PasswordHash

from chainlens.settings import Settings
from graph.funders import get_funder
from graph.model import DEFAULT_FUNDER
from graph.users import (
    TokenState,
    bind_user,
    get_token_state,
    get_user,
    remove_user,
    save_user,
    set_disabled,
)

_hasher = PasswordHash.recommended()  # argon2id
_ALGORITHM = "HS256"
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1_024  # argon2 hashes whatever it gets: bound the work of one login
MIN_DISTINCT_CHARACTERS = 5
# Letters, digits and . _ @ - ; starts with a letter or digit; at most 64 characters.
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
# The passwords every guessing list starts with (compared lowercased, and without the digits
# and punctuation people append: "Password2024!" is "password").
BLOCKLIST = frozenset(
    {
        "password", "passw0rd", "p@ssw0rd", "p@ssword", "qwerty", "qwertyuiop", "qwertyuiopasdf",
        "asdfghjkl", "zxcvbnm", "letmein", "welcome", "changeme", "changeit", "admin",
        "administrator", "iloveyou", "monkey", "dragon", "football", "baseball", "sunshine",
        "princess", "trustno", "abc", "abcdef", "abcdefgh", "secret", "chainlens", "neo4j",
        "supplychain", "default", "master", "login", "test", "testing", "guest", "root", "user",
        "123456789012", "1234567890", "1q2w3e4r5t6y", "1qaz2wsx3edc", "qazwsxedc",
    }
)  # fmt: skip
_TRAILING_NOISE = re.compile(r"[\d\W_]+$")


class Role(StrEnum):
    ANALYST = "analyst"
    CREDIT_OFFICER = "credit_officer"
    RELATIONSHIP_MANAGER = "relationship_manager"
    ADMIN = "admin"
    SERVICE = "service"


class AuthError(Exception):
    """Bad credentials or token; always answered with 401 and no detail that helps guessing."""

    http_status = 401


class UserExists(ValueError):
    """`users add` for a username that is taken, without `--update`."""


@dataclass(frozen=True, slots=True)
class CurrentUser:
    username: str
    roles: frozenset[Role]
    funder_id: str | None = None  # the funder the user works for (None: not bound)
    enterprise_id: str | None = None  # the firm on the chain the user acts for

    def has_any(self, roles: frozenset[Role]) -> bool:
        """Admins may do everything; everyone else needs one of ``roles``."""
        return Role.ADMIN in self.roles or bool(self.roles & roles)

    @property
    def book(self) -> str | None:
        """The funder whose book this user reads and writes: its own when bound; the
        default funder for unbound staff (the single-funder platform before funders); None
        (every funder's) for an unbound admin and for an enterprise's user, whose reads are
        narrowed to its own firm instead (docs/api.md#several-funders)."""
        if self.funder_id is not None:
            return self.funder_id
        if self.enterprise_id is not None or Role.ADMIN in self.roles:
            return None
        return DEFAULT_FUNDER

    @property
    def writes_for(self) -> str:
        """The funder a record this user creates belongs to."""
        return self.funder_id or DEFAULT_FUNDER


def parse_roles(values: list[str]) -> list[Role]:
    try:
        return [Role(v) for v in values]
    except ValueError as e:
        allowed = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role in {values}; roles are: {allowed}") from e


def check_username(username: str) -> None:
    """Raise ValueError unless ``username`` is 1–64 letters, digits, ``._@-``, starting with
    a letter or digit (so no empty names, no surrounding spaces, nothing that looks alike)."""
    if not USERNAME.fullmatch(username):
        raise ValueError(
            f"username {username!r} is not valid: 1 to 64 characters, letters, digits and "
            "'.', '_', '@', '-', starting with a letter or digit"
        )


def password_problem(password: str, username: str) -> str | None:
    """Why ``password`` is refused for ``username``, or None when it passes the policy."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"password must have at most {MAX_PASSWORD_LENGTH} characters"
    if not password.strip():
        return "password must not be only spaces"
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        return f"password must have at least {MIN_DISTINCT_CHARACTERS} different characters"
    lowered = password.lower()
    if username and username.lower() in lowered:
        return "password must not contain the username"
    squeezed = "".join(lowered.split())
    if squeezed in BLOCKLIST or _TRAILING_NOISE.sub("", squeezed) in BLOCKLIST:
        return "password is too common (it is on the blocklist)"
    return None


def add_user(
    driver: Driver,
    database: str,
    username: str,
    password: str,
    roles: list[Role],
    *,
    update: bool = True,
    funder_id: str | None = None,
    enterprise_id: str | None = None,
) -> bool:
    """Create a user, or with ``update`` replace its password, roles and binding (revoking
    its tokens); returns whether it existed. Without ``update`` an existing user raises
    UserExists and is left as it was. The username and password policies apply; a funder
    or enterprise it is bound to must exist."""
    check_username(username)
    problem = password_problem(password, username)
    if problem is not None:
        raise ValueError(problem)
    if not roles:
        raise ValueError("a user needs at least one role")
    check_binding(driver, database, funder_id, enterprise_id)
    existed = save_user(
        driver, database, username, _hasher.hash(password), [r.value for r in roles],
        update=update, funder_id=funder_id, enterprise_id=enterprise_id,
    )  # fmt: skip
    if existed and not update:
        raise UserExists(f"user {username} exists; use --update to change it")
    invalidate_user(username)
    return existed


def check_binding(
    driver: Driver, database: str, funder_id: str | None, enterprise_id: str | None
) -> None:
    """ValueError unless the funder (``DEFAULT_FUNDER`` or a created one) and the enterprise
    a user is bound to exist."""
    if (funder_id is not None and funder_id != DEFAULT_FUNDER
            and get_funder(driver, database, funder_id) is None):  # fmt: skip
        raise ValueError(f"no funder {funder_id!r}; create it first (users add-funder)")
    if enterprise_id is not None:
        from graph.enterprises import get_enterprises

        if not get_enterprises(driver, database, [enterprise_id]):
            raise ValueError(f"no enterprise {enterprise_id!r}")


def bind(
    driver: Driver, database: str, username: str, funder_id: str | None,
    enterprise_id: str | None,
) -> bool:  # fmt: skip
    """Bind a user to a funder and/or an enterprise (None: unbound); its tokens stop working
    at once. False: no such user."""
    check_binding(driver, database, funder_id, enterprise_id)
    found = bind_user(driver, database, username, funder_id, enterprise_id)
    invalidate_user(username)
    return found


def disable_user(driver: Driver, database: str, username: str, disabled: bool = True) -> bool:
    """Disable (or enable) a user; its tokens stop working at once. False: no such user."""
    found = set_disabled(driver, database, username, disabled)
    invalidate_user(username)
    return found


def delete_user(driver: Driver, database: str, username: str) -> bool:
    """Remove a user; its tokens stop working at once. False: no such user."""
    found = remove_user(driver, database, username)
    invalidate_user(username)
    return found


def authenticate(driver: Driver, database: str, username: str, password: str) -> CurrentUser:
    return authenticate_versioned(driver, database, username, password)[0]


def authenticate_versioned(
    driver: Driver, database: str, username: str, password: str
) -> tuple[CurrentUser, int]:
    """The user and its token version, or AuthError."""
    try:
        username.encode("utf-8")  # a lone surrogate is no one's name (and no query's)
        user = get_user(driver, database, username) if len(username) <= 200 else None
    except UnicodeEncodeError:
        user = None
    if user is None:
        _hasher.hash(password)  # same cost as a wrong password: no user enumeration by timing
        raise AuthError("invalid username or password")
    if user.disabled or not _hasher.verify(password, user.password_hash):
        raise AuthError("invalid username or password")
    current = CurrentUser(
        user.username, frozenset(parse_roles(list(user.roles))), user.funder_id,
        user.enterprise_id,
    )  # fmt: skip
    return current, user.token_version


def issue_token(settings: Settings, user: CurrentUser, version: int = 0) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": user.username,
        "roles": sorted(r.value for r in user.roles),
        "ver": version,
        "funder": user.funder_id,
        "enterprise": user.enterprise_id,
        "iat": now,
        "exp": now + timedelta(minutes=settings.jwt_ttl_minutes),
        "iss": "chainlens",
    }
    return jwt.encode(claims, settings.effective_jwt_secret().get_secret_value(), _ALGORITHM)


def decode_token(settings: Settings, token: str) -> tuple[CurrentUser, int]:
    """The user a token names and the token version it carries (0 for tokens without one);
    AuthError when the signature, issuer or expiry is wrong. Revocation is not checked."""
    try:
        claims = jwt.decode(
            token,
            settings.effective_jwt_secret().get_secret_value(),
            algorithms=[_ALGORITHM],
            issuer="chainlens",
            options={"require": ["exp", "sub", "iat"]},
        )
        version = claims.get("ver", 0)
        if not isinstance(version, int) or isinstance(version, bool):
            raise AuthError("invalid or expired token")
        funder, enterprise = claims.get("funder"), claims.get("enterprise")
        if not all(x is None or isinstance(x, str) for x in (funder, enterprise)):
            raise AuthError("invalid or expired token")
        user = CurrentUser(
            str(claims["sub"]), frozenset(parse_roles(list(claims.get("roles", [])))),
            funder, enterprise,
        )  # fmt: skip
        return user, version
    except (jwt.PyJWTError, ValueError, TypeError) as e:
        raise AuthError("invalid or expired token") from e


def verify_token(settings: Settings, token: str) -> CurrentUser:
    """The user of a well-signed, unexpired token (revocation not checked: see TokenChecker)."""
    return decode_token(settings, token)[0]


# ---- revocation ----------------------------------------------------------------------------
_CHECKERS: weakref.WeakSet[TokenChecker] = weakref.WeakSet()


def invalidate_user(username: str) -> None:
    """Forget what every checker of this process knows about ``username``."""
    for checker in list(_CHECKERS):
        checker.invalidate(username)


class TokenChecker:
    """Refuses tokens whose version is not the user's current one, or whose user is disabled
    or removed. The user's state is read once per ``ttl_s`` (cached in process)."""

    def __init__(
        self,
        driver: Driver,
        database: str,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.driver = driver
        self.database = database
        self.ttl_s = ttl_s
        self.clock = clock
        self._cache: dict[str, tuple[float, TokenState | None]] = {}
        self._lock = threading.Lock()
        _CHECKERS.add(self)

    def invalidate(self, username: str) -> None:
        with self._lock:
            self._cache.pop(username, None)

    def verify_cached(self, user: CurrentUser, version: int) -> CurrentUser | None:
        """``user`` when the cache vouches for the token, None when the user must be read
        (``verify``); AuthError when the cache knows the token is revoked."""
        with self._lock:
            hit = self._cache.get(user.username)
        if hit is None or self.clock() - hit[0] > self.ttl_s:
            return None
        return self.judge(user, version, hit[1])

    def remember(self, username: str, version: int, roles: frozenset[Role]) -> None:
        """What a successful login just read: its token needs no read on first use."""
        state = TokenState(version, False, tuple(sorted(r.value for r in roles)))
        with self._lock:
            self._cache[username] = (self.clock(), state)

    def verify(self, user: CurrentUser, version: int) -> CurrentUser:
        """Read the user's state (one small query), cache it, and judge the token."""
        state = get_token_state(self.driver, self.database, user.username)
        with self._lock:
            if len(self._cache) >= 100_000:
                self._cache.clear()
            self._cache[user.username] = (self.clock(), state)
        return self.judge(user, version, state)

    @staticmethod
    def judge(user: CurrentUser, version: int, state: TokenState | None) -> CurrentUser:
        if state is None or state.disabled or state.token_version != version:
            raise AuthError("invalid or expired token")
        return user
