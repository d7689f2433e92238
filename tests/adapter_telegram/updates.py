"""Update payloads as Telegram sends them (only the fields clipbot reads, plus required ones)."""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

_ids = itertools.count(500_000)
GROUP_ID = -1001234567890


def user(user_id: int = 111, lang: str | None = "en", name: str = "Ana") -> dict[str, Any]:
    u: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": name}
    if lang:
        u["language_code"] = lang
    return u


def message(text: str | None, *, sender: dict[str, Any], chat_id: int | None = None,
            **extra: Any) -> dict[str, Any]:
    """A new message update; private chat with ``sender`` unless ``chat_id`` says otherwise."""
    chat_id = sender["id"] if chat_id is None else chat_id
    chat = ({"id": chat_id, "type": "private", "first_name": sender["first_name"]}
            if chat_id > 0 else {"id": chat_id, "type": "supergroup", "title": "Bakers"})
    msg: dict[str, Any] = {"message_id": next(_ids), "date": int(time.time()), "chat": chat,
                           "from": sender, **extra}
    if text is not None:
        msg["text"] = text
        entities = mentions(text)
        if text.startswith("/"):
            length = len(text.split(" ", 1)[0])
            entities.insert(0, {"type": "bot_command", "offset": 0, "length": length})
        if entities:
            msg["entities"] = entities
    return {"message": msg}


def mentions(text: str) -> list[dict[str, Any]]:
    """The "mention" entities Telegram adds for each @username (offsets in UTF-16 units)."""
    return [{"type": "mention", "offset": len(text[:m.start()].encode("utf-16-le")) // 2,
             "length": len(m.group().encode("utf-16-le")) // 2}
            for m in re.finditer(r"(?<![/\w])@\w{3,}", text)]


def photo(caption: str, *, sender: dict[str, Any], file_id: str,
          chat_id: int | None = None) -> dict[str, Any]:
    sizes = [{"file_id": file_id, "file_unique_id": file_id + "u", "width": 320,
              "height": 240, "file_size": 1000}]
    extra: dict[str, Any] = {"caption_entities": mentions(caption)} if mentions(caption) else {}
    return message(None, sender=sender, chat_id=chat_id, photo=sizes, caption=caption, **extra)


def document(caption: str, *, sender: dict[str, Any], file_id: str, mime: str,
             size: int = 1000, chat_id: int | None = None) -> dict[str, Any]:
    """A file sent "as a file" (no compression), e.g. a full-quality photo."""
    doc = {"file_id": file_id, "file_unique_id": file_id + "u", "file_name": "IMG_0001.jpg",
           "mime_type": mime, "file_size": size}
    return message(None, sender=sender, chat_id=chat_id, document=doc, caption=caption)


def press(data: str, *, sender: dict[str, Any], on: dict[str, Any]) -> dict[str, Any]:
    """The user taps an inline button with ``data`` on our message ``on``."""
    return {"callback_query": {"id": f"cq-{next(_ids)}", "from": sender, "message": on,
                               "chat_instance": "ci-1", "data": data}}
