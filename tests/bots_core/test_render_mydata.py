"""/mydata's text: what ``ClipService.export`` holds, short, in the user's language."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bots.core import render
from bots.i18n import LANGUAGES, t

DAY = 20424  # 2025-12-02, the UTC day number the quota hash stores
MS = DAY * 86400 * 1000 + (2 * 3600 + 31 * 60) * 1000  # 2025-12-02 02:31 UTC


def job(prompt: str, state: str = "done", n: int = 0) -> dict[str, Any]:
    return {"id": f"job{n}", "state": state, "prompt": prompt, "aspect": "16:9", "seconds": 2,
            "seed": 7, "created_at_ms": MS + n * 60_000, "clip_id": None, "error": None}


def export(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"user": "telegram:42", "quota_today": {}, "limits_override": {},
                            "jobs": []}
    return data | over


FULL = export(
    jobs=[job("a paper boat", "done"), job("a red kite", "queued", 1)],
    quota_today={"day": str(DAY), "gpu_s": "37.4", "clips": "2"},
    limits_override={"daily_clips": "99", "banned": "1"},
    retention={"clip_ttl_s": 86400, "record_ttl_s": 7 * 86400},
)


@pytest.mark.parametrize(
    ("data", "present", "absent"),
    [
        # Two jobs, counters, a grant, a ban and the deployment's TTLs: all said, in order.
        (FULL, [
            t("en", "mydata_title", user="telegram:42"),
            t("en", "mydata_jobs", count=2),
            "• Ready · 2025-12-02 02:31 UTC · “a paper boat”",
            "• Queued · 2025-12-02 02:32 UTC · “a red kite”",
            "Usage counters for 2025-12-02 (UTC): 2 clip(s), 37 GPU-seconds.",
            "Limits the operator set for you: 99 clips a day.",
            t("en", "mydata_banned"),
            "Videos are deleted after 24 h, job records after 7 days.",
        ], [t("en", "mydata_no_jobs"), "…and"]),
        # After /forget: no jobs, only the anonymous counters.
        (export(quota_today={"day": str(DAY), "gpu_s": "0", "clips": "1"}),
         [t("en", "mydata_no_jobs"), "1 clip(s), 0 GPU-seconds"],
         ["Limits", t("en", "mydata_banned"), "deleted after"]),
        # Nothing at all stored.
        (export(), [t("en", "mydata_no_jobs"), t("en", "mydata_no_usage")], ["•"]),
        # Every grant field, an unknown one kept as it is; no retention without the TTLs.
        (export(limits_override={"max_inflight": "2", "daily_gpu_s": "600.0", "x": "y"},
                retention={"clip_ttl_s": 3600}),
         ["Limits the operator set for you: 600 GPU-seconds a day, 2 clips at once, x=y."],
         [t("en", "mydata_banned"), "deleted after"]),
        # An operator's shorter TTLs are what the text says.
        (export(retention={"clip_ttl_s": 7200, "record_ttl_s": 86400}),
         ["Videos are deleted after 2 h, job records after 24 h."], []),
    ],
)
def test_mydata_text(data: dict[str, Any], present: list[str], absent: list[str]) -> None:
    text = render.mydata("en", data).text
    at = -1
    for piece in present:
        assert piece in text, (piece, text)
        assert text.index(piece) > at, f"{piece!r} out of order in {text!r}"
        at = text.index(piece)
    for piece in absent:
        assert piece not in text, (piece, text)


@pytest.mark.parametrize(
    ("jobs", "left_out", "shortened"),
    [
        (0, 0, False),
        (2, 0, False),
        (render.MYDATA_JOBS, 0, False),
        (render.MYDATA_JOBS + 3, 3, False),
    ],
)
def test_long_lists_are_cut_and_say_how_many_were_left_out(
        jobs: int, left_out: int, shortened: bool) -> None:
    data = export(jobs=[job(f"prompt number {n}", n=n) for n in range(jobs)])
    out = render.mydata("en", data)
    assert (out.left_out, out.shortened, out.needs_file) == (left_out, shortened, bool(left_out))
    listed = [n for n in range(jobs) if f"“prompt number {n}”" in out.text]
    assert listed == list(range(min(jobs, render.MYDATA_JOBS)))  # newest first, as exported
    assert (t("en", "mydata_more", count=left_out) in out.text) == bool(left_out)


@pytest.mark.parametrize("max_chars", [700, 1900, render.MYDATA_CHARS])
def test_text_fits_the_platforms_message_limit(max_chars: int) -> None:
    data = FULL | {"jobs": [job("x" * 200, n=n) for n in range(30)]}
    out = render.mydata("hi", data, max_chars=max_chars)
    assert len(out.text) <= max_chars and out.needs_file
    listed = out.text.count("•")
    assert 0 < listed < 30 and out.left_out == 30 - listed
    assert t("hi", "mydata_more", count=out.left_out) in out.text


def test_a_long_prompt_is_cut_in_the_text_and_whole_in_the_file() -> None:
    prompt = "a lighthouse in a storm, " * 10
    data = export(jobs=[job(prompt)])
    out = render.mydata("en", data)
    assert out.shortened and out.needs_file and prompt not in out.text
    assert prompt[: render.MYDATA_PROMPT - 1] + "…" in out.text
    assert json.loads(render.mydata_json(data))["jobs"][0]["prompt"] == prompt


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_renders_its_own_words(lang: str) -> None:
    text = render.mydata(lang, FULL).text
    assert text.startswith(t(lang, "mydata_title", user="telegram:42"))
    assert t(lang, "state_done") in text and "a paper boat" in text
    assert t(lang, "unit_days", n=7) in text
    if lang != "en":
        assert text != render.mydata("en", FULL).text


def test_json_file_is_readable_utf8() -> None:
    data = export(jobs=[job("café à l'aube, 日の出")])
    raw = render.mydata_json(data)
    assert "日の出".encode() in raw  # not \\u escapes: readable when opened
    assert json.loads(raw) == data
