"""Authentication that holds (issue 25, findings 4 and 5): login throttling under
concurrency, without locking the real user out; tokens revoked at once by a password
change, a role change, disabling or removing the user; usernames and passwords checked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
from neo4j import Driver
from neo4j.exceptions import ServiceUnavailable

from api import security
from api.security import (
    Role,
    UserExists,
    add_user,
    delete_user,
    disable_user,
    password_problem,
)
from tests.api.conftest import PASSWORD
from tests.cli.conftest import cli_env, run  # noqa: F401

pytestmark = pytest.mark.neo4j

WHO = "query Who { users { username } }"
NOTHING = "query Ping { __typename }"
LIMITS = {
    "login_per_username_burst": 5,
    "login_per_username_per_minute": 1,
    "login_per_address_burst": 20,
    "login_per_address_per_minute": 1,
    "login_global_per_username_burst": 8,
    "login_global_per_username_per_minute": 1,
}


@contextmanager
def from_address(base_url: str, address: str) -> Iterator[httpx.Client]:
    """A client whose connections come from ``address`` (any 127.x.y.z is loopback)."""
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=base_url, transport=transport, timeout=60) as c:
        yield c


def token(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/auth/token", json={"username": username, "password": password})


def bearer(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_sixty_simultaneous_guesses_evaluate_at_most_the_allowance(
    own_app: Callable[..., httpx.Client], db: Driver, database: str
) -> None:
    http = own_app(**LIMITS)
    add_user(db, database, "target", PASSWORD, [Role.ADMIN])
    guesses = [f"wrong password {i:02d}" for i in range(59)] + [PASSWORD]

    def guess(password: str) -> int:
        with httpx.Client(base_url=str(http.base_url), timeout=60) as c:
            return token(c, "target", password).status_code

    with ThreadPoolExecutor(60) as pool:
        statuses = list(pool.map(guess, guesses))
    evaluated = [s for s in statuses if s != 429]
    assert len(evaluated) <= LIMITS["login_per_username_burst"], statuses
    assert statuses.count(429) >= 60 - LIMITS["login_per_username_burst"]
    assert set(evaluated) <= {200, 401}


def test_an_attacker_does_not_lock_the_real_user_out_of_a_known_address(
    own_app: Callable[..., httpx.Client], db: Driver, database: str
) -> None:
    http = own_app(**LIMITS)
    url = str(http.base_url)
    add_user(db, database, "victim", PASSWORD, [Role.ANALYST])
    with from_address(url, "127.0.0.2") as office:
        assert token(office, "victim").status_code == 200  # the user's usual address
    # The attacker rotates addresses: each one's own allowance, then the username's cap.
    statuses = []
    for n in range(3, 9):
        with from_address(url, f"127.0.0.{n}") as attacker:
            statuses += [token(attacker, "victim", "guess-guess-guess").status_code
                         for _ in range(3)]  # fmt: skip
    assert statuses.count(401) == LIMITS["login_global_per_username_burst"]
    assert statuses[-1] == 429
    with from_address(url, "127.0.0.2") as office:
        assert token(office, "victim").status_code == 200  # known: still gets in
    with from_address(url, "127.0.0.99") as stranger:
        refused = token(stranger, "victim")  # an unknown address meets the username's cap
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert "victim" not in refused.text and "127.0" not in refused.text


def test_one_address_guessing_across_usernames_is_limited(
    own_app: Callable[..., httpx.Client],
) -> None:
    http = own_app(**LIMITS)
    statuses = [token(http, f"nobody-{i}", "guess-guess-guess").status_code for i in range(25)]
    assert statuses.count(401) == LIMITS["login_per_address_burst"]
    assert statuses[-1] == 429


def test_old_tokens_are_refused_right_after_a_role_change(
    client: httpx.Client, db: Driver, database: str
) -> None:
    add_user(db, database, "olga", PASSWORD, [Role.ADMIN])
    old = bearer(token(client, "olga"))
    assert client.post("/graphql", json={"query": WHO}, headers=old).json()["data"]["users"]
    add_user(db, database, "olga", PASSWORD, [Role.ANALYST], update=True)  # downgraded
    refused = client.post("/graphql", json={"query": WHO}, headers=old)
    assert refused.status_code == 401
    assert client.get("/me", headers=old).status_code == 401
    new = bearer(token(client, "olga"))
    denied = client.post("/graphql", json={"query": WHO}, headers=new).json()
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_password_change_disable_and_remove_revoke_tokens(
    client: httpx.Client, db: Driver, database: str
) -> None:
    add_user(db, database, "pat", PASSWORD, [Role.ANALYST])
    first = bearer(token(client, "pat"))
    add_user(db, database, "pat", PASSWORD + " 2", [Role.ANALYST], update=True)
    assert client.post("/graphql", json={"query": NOTHING}, headers=first).status_code == 401
    assert token(client, "pat").status_code == 401  # the old password is gone
    second = bearer(token(client, "pat", PASSWORD + " 2"))
    assert client.post("/graphql", json={"query": NOTHING}, headers=second).status_code == 200
    disable_user(db, database, "pat")
    assert client.post("/graphql", json={"query": NOTHING}, headers=second).status_code == 401
    assert token(client, "pat", PASSWORD + " 2").status_code == 401
    disable_user(db, database, "pat", disabled=False)
    third = bearer(token(client, "pat", PASSWORD + " 2"))
    assert client.post("/graphql", json={"query": NOTHING}, headers=second).status_code == 401
    delete_user(db, database, "pat")
    assert client.post("/graphql", json={"query": NOTHING}, headers=third).status_code == 401


def test_add_user_refuses_to_overwrite_and_checks_names_and_passwords(
    db: Driver, database: str
) -> None:
    add_user(db, database, "zoe", PASSWORD, [Role.ANALYST])
    with pytest.raises(UserExists):
        add_user(db, database, "zoe", "another long password", [Role.ADMIN], update=False)
    for name in ("", " x ", "x y", "a" * 65, "-lead", "名字", "zo\u200be"):
        with pytest.raises(ValueError, match="username"):
            add_user(db, database, name, PASSWORD, [Role.ANALYST])
    bad = {
        " " * 12: "only spaces",
        "short pw": "at least 12",
        "aaaaaaaaaaaaaaaa": "different characters",
        "zoe-is-the-best-zoe": "username",
        "Password2024!": "blocklist",
        "qwertyuiop123": "blocklist",
    }
    for password, reason in bad.items():
        problem = password_problem(password, "zoe")
        assert problem is not None and reason in problem, (password, problem)
    assert password_problem(PASSWORD, "zoe") is None


def test_users_commands(db: Driver, database: str, cli_env: dict[str, str]) -> None:  # noqa: F811
    pw = "a-long-enough-password"
    created = run(cli_env, "users", "add", "cli-user", "--role", "analyst", "--password", pw)
    assert created.returncode == 0, created.stderr
    again = run(cli_env, "users", "add", "cli-user", "--role", "admin", "--password", pw)
    assert again.returncode == 1 and "--update" in again.stderr
    updated = run(cli_env, "users", "add", "cli-user", "--role", "admin", "--password", pw,
                  "--update")  # fmt: skip
    assert updated.returncode == 0 and "revoked" in updated.stderr
    spaces = run(cli_env, "users", "add", " x ", "--role", "analyst", "--password", pw)
    assert spaces.returncode == 1 and "not valid" in spaces.stderr
    listed = run(cli_env, "users", "list")
    assert listed.returncode == 0 and "cli-user" in listed.stdout and "admin" in listed.stdout
    assert "$argon2" not in listed.stdout
    assert run(cli_env, "users", "disable", "cli-user").returncode == 0
    assert "disabled" in run(cli_env, "users", "list").stdout
    assert run(cli_env, "users", "remove", "cli-user").returncode == 0
    missing = run(cli_env, "users", "remove", "cli-user")
    assert missing.returncode == 1 and "no user" in missing.stderr


def test_tokens_are_refused_while_their_revocation_cannot_be_checked(
    own_app: Callable[..., httpx.Client],
    db: Driver,
    database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    http = own_app(token_version_cache_s=0.0)  # every request reads the user
    add_user(db, database, "quinn", PASSWORD, [Role.ANALYST])
    headers = bearer(token(http, "quinn"))
    assert http.post("/graphql", json={"query": NOTHING}, headers=headers).status_code == 200

    def unreachable(*_: object) -> None:
        raise ServiceUnavailable("the user store is down")

    monkeypatch.setattr(security, "get_token_state", unreachable)
    down = http.post("/graphql", json={"query": NOTHING}, headers=headers)
    assert down.status_code == 503 and down.headers["Retry-After"]
    assert http.get("/me", headers=headers).status_code == 503
