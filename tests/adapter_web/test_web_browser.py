"""End to end in a real browser: Debian's headless Chromium at a phone's size types a prompt
and watches the clip play. Screenshots go to test-artifacts/."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from PIL import Image

from bots.core.images import MAX_BYTES, MAX_PIXELS
from bots.core.service import ClipService, CoreConfig
from bots.i18n import t
from bots.web.app import create_app
from clipbot.settings import Settings
from storage import Storage
from tests.adapter_web.web_helpers import GENEROUS

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 360, "height": 740}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian chromium is not installed at /usr/bin/chromium "
        "(./run test installs it with apt-get when it runs as root)",
    ),
]


@pytest.fixture
async def site(storage: Storage, web_settings: Settings, engine) -> AsyncIterator[str]:
    async for url in _serve(storage, web_settings):
        yield url


@pytest.fixture
async def quiet_site(storage: Storage, web_settings: Settings) -> AsyncIterator[str]:
    """The chat with no engine: jobs stay queued."""
    async for url in _serve(storage, web_settings):
        yield url


async def _serve(storage: Storage, web_settings: Settings) -> AsyncIterator[str]:
    app = create_app(web_settings, storage, ClipService(storage, CoreConfig(limits=GENEROUS)))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)  # a free port
    await tcp.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def arabic_small_phone(browser: Any, site: str, errors: list[str]) -> Any:
    """The chat open in Arabic on a 360 px phone, page errors collected into ``errors``."""
    small = await browser.new_context(viewport=SMALL_PHONE, is_mobile=True, has_touch=True,
                                      locale="ar-EG",
                                      extra_http_headers={"Accept-Language": "ar"})
    page = await small.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(site)
    return page


async def test_phone_types_a_prompt_and_the_clip_plays(site: str) -> None:
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            phone = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                              locale="en-US")
            page = await phone.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(site)
            await page.fill("#input", "a bakery window at sunrise, steam rising --seconds 1")
            await page.click("[data-aspect='9:16']")
            await page.click("#send")
            status = page.locator(".job .status")
            await status.wait_for(timeout=30_000)
            first_status = await status.text_content()
            await page.screenshot(path=ARTIFACTS / "web-390-progress.png")
            assert page.get_by_text("Got it!").first  # the acknowledgement bubble
            assert first_status and ("queue" in first_status or "%" in first_status
                                     or t("en", "state_running") in first_status)

            video = page.locator("video")
            await video.wait_for(timeout=90_000)
            await page.wait_for_function(
                "() => { const v = document.querySelector('video');"
                " return v && v.readyState >= 2 && v.duration > 0 && v.currentTime > 0; }",
                timeout=30_000,
            )
            info = await page.evaluate(
                "() => { const v = document.querySelector('video');"
                " return {ready: v.readyState, duration: v.duration, paused: v.paused,"
                " w: v.videoWidth, h: v.videoHeight, inline: v.playsInline,"
                " width: document.scrollingElement.scrollWidth}; }"
            )
            assert info["ready"] >= 2 and info["duration"] > 0 and not info["paused"]
            assert info["h"] > info["w"] > 0  # the tall shape button was honoured
            assert info["inline"] and info["width"] <= PHONE["width"]
            assert await page.locator("#preview").is_visible()  # preview-model banner
            for label in ("btn_download", "btn_retry", "btn_vary"):
                assert await page.get_by_role("button" if label != "btn_download" else "link",
                                              name=t("en", label)).is_visible()
            await page.screenshot(path=ARTIFACTS / "web-390-clip.png")

            # Arabic on a small phone: right-to-left, nothing wider than the screen.
            ar = await arabic_small_phone(browser, site, errors)
            await ar.get_by_text(t("ar", "welcome")[:10]).first.wait_for()
            layout = await ar.evaluate(
                "() => ({dir: document.documentElement.dir,"
                " width: document.scrollingElement.scrollWidth})"
            )
            assert layout == {"dir": "rtl", "width": SMALL_PHONE["width"]}
            await ar.screenshot(path=ARTIFACTS / "web-360-ar.png")
        finally:
            await browser.close()
    assert errors == []


def png(width: int = 96, height: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, format="PNG")
    return out.getvalue()


async def test_phone_attaches_a_photo_and_hears_the_servers_answer(site: str) -> None:
    """The preview engine makes videos from text only: the photo is refused politely."""
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    posts: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            phone = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                              locale="en-US")
            page = await phone.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
            await page.goto(site)
            attach = page.get_by_role("button", name=t("en", "web_attach"))
            await attach.wait_for()
            box = await attach.bounding_box()
            assert box and box["width"] >= 44 and box["height"] >= 44
            assert box["y"] + box["height"] <= PHONE["height"]  # on screen, by the thumb
            assert await page.locator("#photo-file").get_attribute("accept") == (
                "image/jpeg,image/png,image/webp")

            # Over the limit: refused on the phone, in the server's words, never uploaded.
            await page.set_input_files("#photo-file", files=[{
                "name": "huge.jpg", "mimeType": "image/jpeg", "buffer": b"\0" * (MAX_BYTES + 1),
            }])
            await page.get_by_text(t("en", "image_too_big", max_mb=MAX_BYTES // 2**20,
                                     max_mp=MAX_PIXELS // 10**6)).wait_for()
            assert await page.locator("#photo").is_hidden() and posts == []

            await page.set_input_files("#photo-file", files=[{
                "name": "bread.png", "mimeType": "image/png", "buffer": png(),
            }])
            thumb = page.locator("#photo img")
            await thumb.wait_for()
            await page.wait_for_function(
                "() => document.querySelector('#photo img').naturalWidth === 96")
            assert await page.get_by_role(
                "button", name=t("en", "web_photo_remove")).is_visible()
            assert await page.get_attribute("#input", "placeholder") == t(
                "en", "web_photo_placeholder")
            await page.screenshot(path=ARTIFACTS / "web-390-photo-picked.png")

            # Removing it and picking it again works; then send with a motion prompt.
            await page.click("#photo-remove")
            assert await page.locator("#photo").is_hidden()
            await page.set_input_files("#photo-file", files=[{
                "name": "bread.png", "mimeType": "image/png", "buffer": png(),
            }])
            await thumb.wait_for()
            await page.fill("#input", "steam rising slowly")
            await page.click("#send")
            await page.get_by_text(t("en", "image_unsupported")).wait_for(timeout=30_000)
            sent = page.locator(".msg.me").last
            assert await sent.locator("img.shot").count() == 1
            assert "steam rising slowly" in (await sent.text_content() or "")
            assert await page.locator("#photo").is_hidden()
            assert posts[-1].endswith("/api/messages")
            width = await page.evaluate("() => document.scrollingElement.scrollWidth")
            assert width <= PHONE["width"]
            await page.screenshot(path=ARTIFACTS / "web-390-photo-refused.png")

            # Arabic on a small phone with a photo picked: mirrored, nothing overflows.
            ar = await arabic_small_phone(browser, site, errors)
            await ar.get_by_role("button", name=t("ar", "web_attach")).wait_for()
            await ar.set_input_files("#photo-file", files=[{
                "name": "bread.png", "mimeType": "image/png", "buffer": png(),
            }])
            await ar.locator("#photo img").wait_for()
            layout = await ar.evaluate(
                "() => { const a = document.getElementById('attach').getBoundingClientRect();"
                " const s = document.getElementById('send').getBoundingClientRect();"
                " return {width: document.scrollingElement.scrollWidth,"
                " attachRight: a.right, sendLeft: s.left, attachOnRight: a.left > s.left}; }"
            )
            assert layout["width"] == SMALL_PHONE["width"]
            assert layout["attachOnRight"] and layout["attachRight"] <= SMALL_PHONE["width"]
            await ar.screenshot(path=ARTIFACTS / "web-360-ar-photo.png")
        finally:
            await browser.close()
    assert errors == []


async def test_phone_asks_for_mydata_and_downloads_the_file(quiet_site: str) -> None:
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            phone = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                              locale="en-US", accept_downloads=True)
            page = await phone.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(quiet_site)
            await page.fill("#input", "a paper boat on a puddle")
            await page.click("#send")
            await page.get_by_text(t("en", "ack_no_engine")).wait_for()
            await page.fill("#input", "/mydata")
            await page.click("#send")
            link = page.get_by_role("link", name=t("en", "mydata_download"))
            await link.wait_for()
            bubble = page.locator(".msg.bot").last
            assert "a paper boat on a puddle" in (await bubble.text_content() or "")
            width = await page.evaluate("() => document.scrollingElement.scrollWidth")
            assert width <= PHONE["width"]
            await page.screenshot(path=ARTIFACTS / "web-390-mydata.png")
            async with page.expect_download() as info:
                await link.click()
            download = await info.value
            assert download.suggested_filename == "mydata.json"
            data = json.loads(Path(await download.path()).read_text(encoding="utf-8"))
            assert [j["prompt"] for j in data["jobs"]] == ["a paper boat on a puddle"]
        finally:
            await browser.close()
    assert errors == []
