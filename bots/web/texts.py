"""What the web page needs from the shared catalogs: its strings, languages and direction."""

from __future__ import annotations

from bots.core.images import too_big
from bots.i18n import DEFAULT, LANGUAGES, available, catalog, is_rtl, t

# Catalog keys the page needs in JavaScript: every web_* label plus shared ones.
CLIENT_KEYS = (
    *(key for key in catalog(DEFAULT) if key.startswith("web_")),
    "welcome", "btn_retry", "btn_vary", "btn_cancel", "btn_download", "preview_notice",
    "lang_choose", "not_found",
)


def client_strings(locale: str) -> dict[str, str]:
    strings = {key: t(locale, key) for key in CLIENT_KEYS}
    # The page refuses a too-large photo itself, before uploading it, in the server's words.
    limit = too_big()
    strings[limit.key] = t(locale, limit.key, **limit.params)
    return strings


def languages() -> list[dict[str, str]]:
    """The switcher's entries, each language named in itself."""
    return [
        {"code": code, "name": catalog(code).get("_language", code), "dir": direction(code)}
        for code in LANGUAGES
        if code in available()
    ]


def direction(locale: str) -> str:
    return "rtl" if is_rtl(locale) else "ltr"
