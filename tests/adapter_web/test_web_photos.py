"""A photo sent from the web chat: image-to-video when a live engine can animate images;
otherwise, or for a photo that is too large, broken or not allowed, a clear localised
answer and nothing queued or charged. No engine runs here: jobs stay queued."""

from __future__ import annotations

import io
import uuid
from typing import Any

from aiohttp import ClientResponse, FormData
from aiohttp.test_utils import TestClient
from PIL import Image

from bots.core.images import MAX_BYTES, MAX_PIXELS
from bots.core.service import DEFAULT_IMAGE_PROMPT
from bots.i18n import t
from bots.web.session import COOKIE
from bots.web.upload import MAX_UPLOAD, UPLOAD_HEADER
from storage import QuotaLimits, Storage
from storage.models import EngineInfo
from tests.adapter_web.web_helpers import MakeChat

TOO_BIG = {"max_mb": MAX_BYTES // 2**20, "max_mp": MAX_PIXELS // 10**6}


def picture(fmt: str = "PNG", width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, format=fmt)
    return out.getvalue()


async def announce_image_engine(storage: Storage) -> None:
    await storage.engines.beat(EngineInfo(engine_id="i2v-engine", model="wan-i2v", device="cpu",
                                          preview=False, supports_image=True))


def form(image: bytes | None, text: str = "steam rising from the bread", msg_id: str = "",
         **fields: str) -> FormData:
    data = FormData()
    data.add_field("id", msg_id or uuid.uuid4().hex)
    data.add_field("text", text)
    for name, value in fields.items():
        data.add_field(name, value)
    if image is not None:
        # A stream: aiohttp warns about large raw bytes bodies (warnings are errors here).
        data.add_field("image", io.BytesIO(image), filename="photo.png",
                       content_type="image/png")
    return data


async def post_photo(client: TestClient, data: FormData | bytes,
                     **headers: str) -> ClientResponse:
    return await client.post("/api/messages", data=data,
                             headers={UPLOAD_HEADER: "1", **headers})


async def send_photo(client: TestClient, image: bytes | None, **kw: Any) -> dict[str, Any]:
    resp = await post_photo(client, form(image, **kw))
    assert resp.status == 200, await resp.text()
    return await resp.json()


def user_of(client: TestClient) -> str:
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE].value
    return "web:" + cookie.split(".")[0]


async def nothing_charged(storage: Storage, client: TestClient) -> None:
    user = user_of(client)
    assert await storage.jobs.jobs_of(user, 10) == []
    assert await storage.jobs.queue_depth() == 0
    view = await storage.accounts.quota(user, QuotaLimits())
    assert (view.used_clips, view.inflight) == (0, 0)


async def test_photo_becomes_an_image_to_video_job_once(make_chat: MakeChat,
                                                        storage: Storage) -> None:
    await announce_image_engine(storage)
    chat = await make_chat()
    browser = await chat.browser("fr")
    data = picture()
    ack = await send_photo(browser, data, msg_id="photo-0001", aspect="9:16")
    assert ack["kind"] == "ack" and ack["job"]["image"]
    [job] = await storage.jobs.jobs_of(user_of(browser), 10)
    assert job.request.has_image and job.request.aspect == "9:16"
    assert job.request.prompt == "steam rising from the bread" and job.request.locale == "fr"
    assert await storage.image(job.id) == data  # the engine gets exactly this photo

    # The browser resends the same message (a lost answer): still one job, one charge.
    again = await send_photo(browser, data, msg_id="photo-0001", aspect="9:16")
    assert again["kind"] == "ack" and again["job"]["id"] == job.id
    assert await storage.jobs.queue_depth() == 1
    assert (await storage.accounts.quota(user_of(browser), QuotaLimits())).used_clips == 1

    # A photo without words: the core's default motion prompt; a "/" is no command here.
    silent = await send_photo(browser, picture("WEBP"), text="")
    assert silent["kind"] == "ack"
    assert (await storage.jobs.get(silent["job"]["id"])).request.prompt == DEFAULT_IMAGE_PROMPT
    slash = await send_photo(browser, picture("JPEG"), text="/help me wave")
    assert slash["kind"] == "ack"
    history = (await (await browser.get("/api/history")).json())["jobs"]
    assert [j["image"] for j in history] == [True, True, True]


async def test_photo_without_an_image_engine_is_refused_in_the_browsers_language(
    make_chat: MakeChat, storage: Storage
) -> None:
    chat = await make_chat()
    es = await chat.browser("es-MX,es;q=0.9")
    answer = await send_photo(es, picture())
    assert answer == {"kind": "refusal", "key": "image_unsupported",
                      "text": t("es", "image_unsupported")}
    await nothing_charged(storage, es)


async def test_broken_truncated_gif_and_oversized_photos_are_refused(
    make_chat: MakeChat, storage: Storage
) -> None:
    await announce_image_engine(storage)
    chat = await make_chat()
    ar = await chat.browser("ar")
    for image in (b"definitely not a picture", picture()[:60], picture("GIF")):
        answer = await send_photo(ar, image)
        assert answer["kind"] == "refusal" and answer["key"] == "image_bad", image[:8]
        assert answer["text"] == t("ar", "image_bad")

    # One byte over the photo limit, inside the body limit: the core's size check answers.
    over = await send_photo(ar, picture() + b"\0" * (MAX_BYTES + 1 - len(picture())))
    assert over["key"] == "image_too_big" and over["text"] == t("ar", "image_too_big", **TOO_BIG)

    # A body larger than any photo message: refused from its declared length, unread.
    huge = await post_photo(ar, form(b"\0" * (11 * 2**20)))
    assert huge.status == 413
    assert (await huge.json())["text"] == t("ar", "image_too_big", **TOO_BIG)
    await nothing_charged(storage, ar)


async def test_uploads_get_the_same_walls_as_json(make_chat: MakeChat, storage: Storage) -> None:
    await announce_image_engine(storage)
    chat = await make_chat()
    browser = await chat.browser()
    # Without the header only our page's script sends, it is an ordinary cross-site form.
    plain = await browser.post("/api/messages", data=form(picture()))
    assert plain.status == 415
    evil = await post_photo(browser, form(picture()), Origin="https://evil.example")
    assert evil.status == 403 and (await evil.json())["text"] == t("en", "web_forbidden_origin")
    elsewhere = await browser.post("/api/jobs/abcdefgh1234/again", data=form(picture()),
                                   headers={UPLOAD_HEADER: "1"})
    assert elsewhere.status == 415  # only a chat message may carry a photo
    bad_forms = [
        form(picture(), msg_id="../../etc/passwd"),
        form(picture(), aspect="4:3"),
        form(picture(), extra="field"),
        form(picture(), id="twice-0001"),  # a repeated field
    ]
    for data in bad_forms:
        resp = await post_photo(browser, data)
        assert resp.status == 400 and (await resp.json())["error"] == "web_bad_request"
    garbled = await post_photo(browser, b"--nope\r\nnot a form",
                               **{"Content-Type": "multipart/form-data; boundary=xyz"})
    assert garbled.status == 400
    long_text = await post_photo(browser, form(picture(), text="x" * (9 * 1024)))
    assert long_text.status == 413 and (await long_text.json())["error"] == "web_too_large"

    browser.session.cookie_jar.clear()  # no session: refused before the photo is read
    anon = await post_photo(browser, form(picture()))
    assert anon.status == 401
    assert await storage.jobs.queue_depth() == 0
    assert MAX_UPLOAD < 11 * 2**20


async def test_the_page_knows_the_photo_limit_in_its_language(make_chat: MakeChat) -> None:
    chat = await make_chat()
    hi = await chat.browser("hi")
    boot = await (await hi.get("/api/boot")).json()
    assert boot["image_max_bytes"] == MAX_BYTES
    strings = boot["strings"]
    assert strings["image_too_big"] == t("hi", "image_too_big", **TOO_BIG)
    for key in ("web_attach", "web_photo_remove", "web_photo_placeholder"):
        assert strings[key] == t("hi", key) != t("en", key)
    page = await (await hi.get("/")).text()
    assert 'accept="image/jpeg,image/png,image/webp"' in page
