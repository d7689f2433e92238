"""Discord-only strings, looked up in the shared catalogs first.

Until the translators add these keys to ``bots/i18n/catalogs``, the English text here is
the fallback, so every reply still reads as a sentence rather than as a key.
"""

from __future__ import annotations

from typing import Any

from bots.i18n import t

FALLBACK: dict[str, str] = {
    "dc_cmd_video": "Make a short video from a description",
    "dc_cmd_quota": "How many clips you have left today",
    "dc_cmd_status": "Your recent clips",
    "dc_cmd_cancel": "Stop your clip in progress",
    "dc_cmd_forget": "Delete everything this bot keeps about you",
    "dc_cmd_grant": "Operators: give someone a different daily quota",
    "dc_cmd_ban": "Operators: block or unblock someone",
    "dc_cmd_stats": "Operators: queue, engines and totals",
    "dc_opt_prompt": "What the video should show",
    "dc_opt_aspect": "Shape of the video",
    "dc_opt_seconds": "Length in seconds",
    "dc_opt_seed": "A number to repeat a result exactly",
    "dc_opt_negative": "Things to keep out of the video",
    "dc_opt_user": "Who",
    "dc_opt_clips": "Clips per day",
    "dc_opt_gpu_seconds": "GPU-seconds per day",
    "dc_opt_inflight": "Clips in progress at once",
    "dc_opt_unban": "Unblock instead of block",
    "dc_aspect_landscape": "Landscape 16:9",
    "dc_aspect_portrait": "Portrait 9:16 (phones)",
    "dc_aspect_square": "Square 1:1",
    "dc_error": "Sorry, something went wrong on the server. Please try again in a moment.",
    "dc_stats": (
        "Queue: {queued} waiting, {running} generating. Engines online: {engines}.\n"
        "Done {done}, failed {failed}, cancelled {cancelled}; about {avg} per clip."
    ),
}


def tr(locale: str | None, key: str, **params: Any) -> str:
    """``bots.i18n.t`` with this module's English fallback for keys not in the catalogs."""
    text = t(locale, key, **params)
    if text == key and key in FALLBACK:
        return FALLBACK[key].format(**params)
    return text
