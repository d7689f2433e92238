"""Pure pieces of the web chat: cookie signing, secrets, byte ranges, labels, job views."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bots.core.delivery import Progress
from bots.i18n import LANGUAGES, t
from bots.web.clips import parse_range
from bots.web.session import SECRET_FILE, SessionSigner, load_secret
from bots.web.texts import client_strings, direction
from bots.web.views import JobUpdate, job_view
from storage import ClipMeta, JobRecord, JobRequest, JobState


def test_signed_cookie_round_trip_and_forgeries() -> None:
    signer = SessionSigner(b"k" * 32)
    s = signer.new()
    assert s.fresh and s.authed and len(s.user_id) == 16
    cookie = signer.sign(s.user_id, s.authed)
    back = signer.verify(cookie)
    assert back is not None and back.user_id == s.user_id and not back.fresh
    uid, flag, mac = cookie.split(".")
    other = SessionSigner(b"q" * 32)
    for forged in (
        f"{uid[::-1]}.{flag}.{mac}",  # someone else's id, my signature
        f"{uid}.{flag}.{mac[:-2]}AA",
        f"{uid}.{flag}",
        f"{uid}.{flag}.{mac}.extra",
        other.sign(uid, True),  # signed with another secret
        "", "....", "x" * 500, None,
    ):
        assert signer.verify(forged) is None, forged


def test_password_flag_is_signed_and_tied_to_the_password() -> None:
    signer = SessionSigner(b"k" * 32, password="pw1")
    anon = signer.new()
    assert not anon.authed
    locked = signer.sign(anon.user_id, False)
    assert signer.verify(locked).authed is False
    uid, _, mac = locked.split(".")
    assert signer.verify(f"{uid}.1.{mac}") is None  # flipping the flag breaks the signature
    authed = signer.sign(anon.user_id, True)
    assert signer.verify(authed).authed
    # A new password logs everyone out.
    assert SessionSigner(b"k" * 32, password="pw2").verify(authed) is None
    assert signer.check_password("pw1") and not signer.check_password("pw1 ")


def test_secret_is_generated_once_and_private(tmp_path: Path) -> None:
    configured = "configured-Zk3v9Qm1Xr7Tb2Lw8Hn4Pd6Js0Fy5Gc"
    assert load_secret(configured, tmp_path) == configured.encode()
    assert not (tmp_path / SECRET_FILE).exists()
    first = load_secret("", tmp_path / "cache")
    assert len(first) >= 32
    assert load_secret("", tmp_path / "cache") == first
    mode = stat.S_IMODE(os.stat(tmp_path / "cache" / SECRET_FILE).st_mode)
    assert mode == 0o600


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("bytes=0-9", 100, (0, 9)),
        ("bytes=90-", 100, (90, 99)),
        ("bytes=90-500", 100, (90, 99)),
        ("bytes=-10", 100, (90, 99)),
        ("bytes=-500", 100, (0, 99)),
        ("bytes=0-1,5-6", 100, None),  # multi-range: whole body
        ("items=0-1", 100, None),
        ("bytes=-", 100, None),
    ],
)
def test_parse_range(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=5-2", "bytes=-0"])
def test_unsatisfiable_range(header: str) -> None:
    with pytest.raises(ValueError):
        parse_range(header, 100)


def test_labels_fall_back_to_english_but_catalog_wins() -> None:
    for lang in LANGUAGES:
        strings = client_strings(lang)
        assert strings["btn_download"] == t(lang, "btn_download")
        assert strings["web_send"]  # never a bare key
        assert all(value != key for key, value in strings.items())
    # Web labels are translated, not English copies.
    assert client_strings("ar")["web_send"] != client_strings("en")["web_send"]
    assert direction("ar") == "rtl" and direction("zh") == "ltr"


def _job(state: JobState, **kw: object) -> JobRecord:
    req = JobRequest(platform="web", user_id="u" * 16, chat_id="c", locale="es",
                     prompt="un gato", aspect="9:16", seconds=2, seed=7)
    return JobRecord(id="job12345678", user="web:" + "u" * 16, state=state, request=req, **kw)


def test_job_views_for_each_state() -> None:
    queued = job_view(JobUpdate(_job(JobState.QUEUED), position=3, eta_s=120), "es")
    assert queued["text"] == t("es", "progress_queued", position=3, eta=t("es", "unit_minutes",
                                                                          n=2))
    assert not queued["final"] and "clip" not in queued
    starting = job_view(JobUpdate(_job(JobState.RUNNING)), "es")
    assert starting["text"] == t("es", "state_running") + "…"
    running = job_view(JobUpdate(_job(JobState.RUNNING),
                                 progress=Progress("job12345678", "running", 3, 6)), "es")
    assert running["percent"] == 50 and "50" in running["text"]
    meta = ClipMeta(width=144, height=256, frames=17, fps=16, duration_s=1.06,
                    size_bytes=999, model="preview", preview=True)
    done = job_view(JobUpdate(_job(JobState.DONE, clip_id="clip1234", meta=meta)), "es")
    assert done["final"] and done["clip"] == "/clips/job12345678"
    assert (done["width"], done["height"], done["preview"]) == (144, 256, True)
    assert done["caption"] == t("es", "caption", prompt="un gato", seconds=2, aspect="9:16",
                                seed=7)
    failed = job_view(JobUpdate(_job(JobState.FAILED, error="oom")), "es")
    assert failed["final"] and failed["text"] == t(
        "es", "failed", reason=t("es", "error_oom"))
