"""Web-only UI labels. They go through ``bots.i18n`` like every other string; until the
catalogs carry them, English comes from here (listed in the report for the translators)."""

from __future__ import annotations

from typing import Any

from bots.i18n import DEFAULT, LANGUAGES, available, catalog, is_rtl, normalize, t

FALLBACK_EN: dict[str, str] = {
    "web_title": "clipbot",
    "web_placeholder": "Describe a video…",
    "web_send": "Send",
    "web_shape": "Shape",
    "web_aspect_wide": "Wide",
    "web_aspect_tall": "Tall",
    "web_aspect_square": "Square",
    "web_language": "Language",
    "web_offline": "Connection lost. Reconnecting…",
    "web_not_sent": "Not sent. Tap to try again.",
    "web_session_expired": "Your session expired. Please send your message again.",
    "web_too_large": "That message is too large. Please keep it shorter.",
    "web_bad_request": "I couldn't read that request. Please reload the page and try again.",
    "web_bad_frame": "I couldn't read that message from your browser. Please reload the page.",
    "web_forbidden_origin": "This request came from another website and was refused.",
    "web_not_found": "This page doesn't exist.",
    "web_password_prompt": "This chat is private. Enter the password to continue.",
    "web_password_placeholder": "Password",
    "web_password_button": "Enter",
    "web_password_wrong": "Wrong password. Please try again.",
    "web_password_needed": "Please enter the password first.",
    "web_server_error": "Something went wrong on the server. Please try again.",
    "web_noscript": "This chat needs JavaScript. Please turn it on in your browser's settings.",
}

# Catalog keys the page needs in JavaScript.
CLIENT_KEYS = (
    *FALLBACK_EN,
    "welcome", "btn_retry", "btn_vary", "btn_cancel", "btn_download", "preview_notice",
    "lang_choose", "not_found",
)


def ui(locale: str | None, key: str, **params: Any) -> str:
    """Like ``t``, but with this module's English for keys the catalogs don't have yet."""
    lang = normalize(locale)
    if key in catalog(lang) or key in catalog(DEFAULT) or key not in FALLBACK_EN:
        return t(lang, key, **params)
    return FALLBACK_EN[key].format(**params) if params else FALLBACK_EN[key]


def client_strings(locale: str) -> dict[str, str]:
    return {key: ui(locale, key) for key in CLIENT_KEYS}


def languages() -> list[dict[str, str]]:
    """The switcher's entries, each language named in itself."""
    return [
        {"code": code, "name": catalog(code).get("_language", code), "dir": direction(code)}
        for code in LANGUAGES
        if code in available()
    ]


def direction(locale: str) -> str:
    return "rtl" if is_rtl(locale) else "ltr"
