"""``clipbot admin`` and the CLI's start-up errors as an operator meets them: real processes.

Every refusal is one line on stderr, no traceback, and nothing written to Redis.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator

import pytest
import redis

from tests.cli.cli_run import clipbot

pytestmark = pytest.mark.slow



def one_line(out: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in out.stderr, out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    return lines[0]



def keys_of(redis_url: str, prefix: str) -> list[bytes]:
    r = redis.Redis.from_url(redis_url)
    try:
        return list(r.scan_iter(match="{" + prefix + "}:*"))
    finally:
        r.close()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["grant", "telegram:1", "--clips", "-5"], "--clips must be from 0 to 100000"),
        (["grant", "telegram:1", "--clips", "100001"], "--clips must be from 0 to 100000"),
        (["grant", "telegram:1", "--clips", "abc"], "--clips must be a whole number"),
        (["grant", "telegram:1", "--gpu-seconds", "nan"], "--gpu-seconds must be from 0"),
        (["grant", "telegram:1", "--gpu-seconds=-inf"], "--gpu-seconds must be from 0"),
        (["grant", "telegram:1", "--inflight", "0"], "--inflight must be from 1 to 100"),
        (["grant", "telegram:1", "--clips", "5", "--inflight", "1000"], "--inflight"),
        (["grant", ":"], "platform:id"),
        (["grant", "telegram:", "--clips", "5"], "platform:id"),
        (["grant", ":12345", "--clips", "5"], "platform:id"),
        (["grant", "telegram12345", "--clips", "5"], "platform:id"),
        (["ban", ":"], "platform:id"),
        (["usage", "web:"], "platform:id"),
        (["drain-engine", ""], "not an engine id"),
    ],
)
def test_admin_refusals_are_one_line_exit_2_and_write_nothing(
    args: list[str], needle: str, env: dict[str, str], redis_url: str, prefix: str
) -> None:
    out = clipbot(["admin", *args], env)
    assert out.returncode == 2, out
    assert needle in one_line(out)
    assert out.stdout == ""
    assert keys_of(redis_url, prefix) == []


def test_a_good_grant_is_stored_and_shown(env: dict[str, str], redis_url: str,
                                          prefix: str) -> None:
    out = clipbot(["admin", "grant", "telegram:1", "--clips", "100", "--gpu-seconds", "7200",
                   "--inflight", "2"], env)
    assert out.returncode == 0, out
    assert out.stdout.strip() == "telegram:1: 0/100 clips, 0.0/7200 GPU-s today, 0 in flight"
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        assert r.hgetall("{" + prefix + "}:grant:telegram:1") == {
            "daily_clips": "100", "daily_gpu_s": "7200.0", "max_inflight": "2"}
    finally:
        r.close()


def test_draining_an_unknown_engine_changes_nothing(
    env: dict[str, str], redis_url: str, prefix: str
) -> None:
    out = clipbot(["admin", "drain-engine", "no-such-engine"], env)
    assert out.returncode == 1, out
    assert one_line(out) == ("clipbot: no live engine 'no-such-engine' (clipbot status lists "
                             "them); nothing changed")
    assert out.stdout == ""
    assert [k for k in keys_of(redis_url, prefix) if b":drain:" in k] == []


@pytest.mark.parametrize(
    ("var", "value", "needle"),
    [
        ("CLIPBOT_REDIS_URL", "notaurl", "bad setting CLIPBOT_REDIS_URL: not a Redis URL"),
        ("CLIPBOT_REDIS_URL", "redis://:hunter2@h:port/0", "bad setting CLIPBOT_REDIS_URL"),
        ("CLIPBOT_WEB_PORT", "abc", "bad setting CLIPBOT_WEB_PORT: Input should be a valid"),
        ("CLIPBOT_HEARTBEAT_TTL_S", "soon", "bad setting CLIPBOT_HEARTBEAT_TTL_S"),
    ],
)
@pytest.mark.parametrize("command", [["status"], ["admin", "usage", "web:x"],
                                     ["generate", "a kite"]])
def test_bad_settings_are_one_line_exit_2(
    var: str, value: str, needle: str, command: list[str], env: dict[str, str]
) -> None:
    env[var] = value
    out = clipbot(command, env)
    assert out.returncode == 2, out
    line = one_line(out)
    assert line.startswith("clipbot: ") and needle in line
    assert "hunter2" not in out.stderr  # a setting's value may be a secret: never echoed


@pytest.fixture
def not_redis() -> Iterator[tuple[int, int]]:
    """Two TCP services that are not Redis: one answers with an SSH banner, one with an HTTP
    error and hangs up (what redis-py calls an invalid response / a closed connection)."""
    servers = []
    for reply in (b"SSH-2.0-OpenSSH_9.6\r\n", b"HTTP/1.0 400 Bad Request\r\n\r\n"):
        srv = socket.create_server(("127.0.0.1", 0))
        servers.append(srv)

        def serve(srv: socket.socket = srv, reply: bytes = reply) -> None:
            while True:
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                with conn:
                    conn.settimeout(5)
                    try:
                        conn.recv(1024)
                        conn.sendall(reply)
                    except OSError:
                        pass

        threading.Thread(target=serve, daemon=True).start()
    yield servers[0].getsockname()[1], servers[1].getsockname()[1]
    for srv in servers:
        srv.close()


@pytest.mark.parametrize("command", [["status"], ["admin", "drain-engine", "e1"],
                                     ["admin", "grant", "web:x", "--clips", "3"]])
def test_a_service_that_is_not_redis_is_one_line_exit_1(
    command: list[str], env: dict[str, str], not_redis: tuple[int, int]
) -> None:
    ssh, http = not_redis
    env["CLIPBOT_REDIS_URL"] = f"redis://127.0.0.1:{ssh}/0"
    out = clipbot(command, env)
    assert out.returncode == 1, out
    assert one_line(out) == (f"clipbot: the service at redis://127.0.0.1:{ssh}/0 does not "
                             "answer like Redis (Protocol Error: b'SSH-2.0-OpenSSH_9.6'). "
                             "Check CLIPBOT_REDIS_URL.")
    env["CLIPBOT_REDIS_URL"] = f"redis://:secret@127.0.0.1:{http}/0"
    out = clipbot(command, env)
    assert out.returncode == 1, out
    line = one_line(out)
    assert line.startswith(f"clipbot: the service at redis://***@127.0.0.1:{http}/0 ")
    assert "secret" not in out.stderr + out.stdout
