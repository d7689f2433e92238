"""Pure helpers for the WhatsApp conversation: a first guess of the user's language from
their number, and reply-button ids.
"""

from __future__ import annotations

from bots.i18n import normalize, t

# WhatsApp gives no user language, only the number. Countries where one of our languages
# is what nearly everyone reads; elsewhere English until the user sends /lang.
_COUNTRY_LANG = {
    "34": "es", "52": "es", "54": "es", "56": "es", "57": "es", "51": "es", "58": "es",
    "593": "es", "502": "es", "503": "es", "504": "es", "505": "es", "506": "es",
    "507": "es", "591": "es", "595": "es", "598": "es", "53": "es",
    "55": "pt", "351": "pt", "244": "pt", "258": "pt",
    "33": "fr", "221": "fr", "225": "fr", "223": "fr", "226": "fr", "227": "fr",
    "228": "fr", "229": "fr", "241": "fr", "242": "fr", "243": "fr", "509": "fr",
    "62": "id",
    "254": "sw", "255": "sw",
    "20": "ar", "212": "ar", "213": "ar", "216": "ar", "218": "ar", "962": "ar",
    "963": "ar", "964": "ar", "965": "ar", "966": "ar", "968": "ar", "970": "ar",
    "971": "ar", "973": "ar", "974": "ar",
    "86": "zh", "886": "zh", "852": "zh", "853": "zh",
}

RETRY, VARY = "retry", "vary"


def guess_locale(wa_id: str, default: str = "en") -> str:
    """Language from the country calling code of a WhatsApp id ('5511…' -> 'pt')."""
    digits = wa_id.lstrip("+")
    for n in (3, 2):
        lang = _COUNTRY_LANG.get(digits[:n])
        if lang is not None:
            return normalize(lang)
    return normalize(default)


def button_id(action: str, job_id: str) -> str:
    return f"{action}:{job_id}"


def parse_button(bid: str) -> tuple[str, str] | None:
    """(action, job id) from a reply-button id we made, None for anything else."""
    action, _, job_id = bid.partition(":")
    if action not in (RETRY, VARY) or not job_id or len(job_id) > 64:
        return None
    return action, job_id


def again_buttons(locale: str, job_id: str) -> list[tuple[str, str]]:
    return [
        (button_id(RETRY, job_id), t(locale, "btn_retry")),
        (button_id(VARY, job_id), t(locale, "btn_vary")),
    ]
