"""The pure parts of the WhatsApp adapter: signature, handshake, payload parsing, phrases."""

from __future__ import annotations

import json

import pytest

from bots.i18n import normalize, t
from bots.whatsapp import webhook
from bots.whatsapp.phrases import guess_locale, parse_button
from bots.whatsapp.state import WINDOW_MARGIN_S, WINDOW_S, inside_window, wa_key
from storage import Keys
from tests.adapter_whatsapp import payloads as p

SECRET = "s3cret-app-secret"
BODY = p.encode(p.text("16505551234", "wamid.A1", "a red kite"))


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (p.signature(SECRET, BODY), True),
        (p.signature(SECRET, BODY).upper().replace("SHA256=", "sha256="), False),
        (p.signature("other-secret", BODY), False),
        (p.signature(SECRET, BODY + b" "), False),
        (p.signature(SECRET, BODY).replace("sha256=", "sha1="), False),
        (p.signature(SECRET, BODY)[:-2], False),
        ("", False),
        (None, False),
    ],
)
def test_signature(header: str | None, ok: bool) -> None:
    assert webhook.signature_ok(SECRET, BODY, header) is ok


def test_signature_is_over_raw_bytes_not_reserialised_json() -> None:
    # Meta escapes non-ASCII (\u00e9); re-serialising would change the bytes and the HMAC.
    raw = json.dumps(p.text("33612345678", "wamid.B", "café au lait")).encode()
    assert b"\\u00e9" in raw
    assert webhook.signature_ok(SECRET, raw, p.signature(SECRET, raw))
    pretty = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    assert not webhook.signature_ok(SECRET, pretty, p.signature(SECRET, raw))


def test_no_app_secret_accepts_nothing() -> None:
    assert not webhook.signature_ok("", BODY, p.signature("", BODY))


@pytest.mark.parametrize(
    ("params", "answer"),
    [
        ({"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"},
         "1158201444"),
        ({"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}, None),
        ({"hub.mode": "unsubscribe", "hub.verify_token": "tok", "hub.challenge": "1"}, None),
        ({"hub.verify_token": "tok", "hub.challenge": "1"}, None),
        ({}, None),
    ],
)
def test_challenge(params: dict[str, str], answer: str | None) -> None:
    assert webhook.challenge(params, "tok") == answer


def test_challenge_refused_without_configured_token() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    assert webhook.challenge(params, "") is None


def test_parse_text_image_button_and_other() -> None:
    [text] = webhook.parse(p.encode(p.text("16505551234", "wamid.T", "hi there", ts=1700000000)))
    assert (text.kind, text.sender, text.text, text.timestamp) == (
        "text", "16505551234", "hi there", 1700000000)
    assert text.phone_number_id == p.PHONE_NUMBER_ID
    [img] = webhook.parse(p.encode(p.image("16505551234", "wamid.I", "2754859441498128", "cat")))
    assert (img.kind, img.media_id, img.text) == ("image", "2754859441498128", "cat")
    [btn] = webhook.parse(p.encode(p.button_reply("16505551234", "wamid.B", "retry:abc", "Retry")))
    assert (btn.kind, btn.button_id, btn.text) == ("button", "retry:abc", "Retry")
    [other] = webhook.parse(p.encode(p.sticker("16505551234", "wamid.S")))
    assert other.kind == "other" and other.message_id == "wamid.S"


def test_parse_ignores_statuses() -> None:
    assert webhook.parse(p.encode(p.status("16505551234", "wamid.X", "read"))) == []


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", json.dumps({"object": "page", "entry": []}).encode(),
     json.dumps({"object": "whatsapp_business_account", "entry": "x"}).encode()],
)
def test_parse_rejects_what_is_not_a_waba_webhook(body: bytes) -> None:
    with pytest.raises(webhook.PayloadError):
        webhook.parse(body)


@pytest.mark.parametrize(
    ("wa_id", "lang"),
    [("5511987654321", "pt"), ("34612345678", "es"), ("5215512345678", "es"),
     ("33612345678", "fr"), ("6281234567890", "id"), ("254712345678", "sw"),
     ("966501234567", "ar"), ("8613812345678", "zh"), ("+351912345678", "pt"),
     ("447700900123", "en"), ("16505551234", "en"), ("", "en")],
)
def test_guess_locale(wa_id: str, lang: str) -> None:
    # normalize(): a language whose catalog is not there yet falls back to English.
    assert guess_locale(wa_id) == normalize(lang)


@pytest.mark.parametrize(
    ("bid", "parsed"),
    [("retry:AbC-12_x", ("retry", "AbC-12_x")), ("vary:AbC", ("vary", "AbC")),
     ("delete:AbC", None), ("retry:", None), ("retry", None), ("", None),
     ("vary:" + "x" * 65, None)],
)
def test_parse_button(bid: str, parsed: tuple[str, str] | None) -> None:
    assert parse_button(bid) == parsed


def test_whatsapp_phrases_fill_placeholders_in_every_language() -> None:
    for lang in ("en", "pt", "sw", "ar"):
        for key in ("wa_again", "wa_held", "wa_unsupported"):
            text = t(lang, key)
            assert text and "{" not in text, (lang, key)
    assert t("pt", "wa_unsupported").endswith(t("pt", "example_prompt"))


@pytest.mark.parametrize(
    ("age_s", "inside"),
    [(0, True), (3600, True), (WINDOW_S - WINDOW_MARGIN_S - 1, True),
     (WINDOW_S - WINDOW_MARGIN_S, False), (WINDOW_S + 1, False)],
)
def test_inside_window(age_s: float, inside: bool) -> None:
    now = 1_800_000_000.0
    assert inside_window(now - age_s, now) is inside


def test_never_seen_is_outside_window() -> None:
    assert not inside_window(None, 1_800_000_000.0)


def test_key_names_share_the_deployment_hash_tag() -> None:
    assert wa_key(Keys("acme"), "seen", "16505551234") == "{acme}:wa:seen:16505551234"
