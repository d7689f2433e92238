"""End to end in a real browser: Debian's headless Chromium at a phone's size types a prompt
and watches the clip play. Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

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
    app = create_app(web_settings, storage, ClipService(storage, CoreConfig(limits=GENEROUS)))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)  # a free port
    await tcp.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


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
            small = await browser.new_context(viewport=SMALL_PHONE, is_mobile=True,
                                              has_touch=True, locale="ar-EG",
                                              extra_http_headers={"Accept-Language": "ar"})
            ar = await small.new_page()
            ar.on("pageerror", lambda exc: errors.append(str(exc)))
            await ar.goto(site)
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
