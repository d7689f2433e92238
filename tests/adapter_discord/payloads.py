"""INTERACTION_CREATE payloads as Discord sends them (slash commands and button clicks)."""

from __future__ import annotations

import secrets
from typing import Any

from tests.adapter_discord.fake_discord import FakeDiscord, _user

GUILD = "700000000000000001"
CHANNEL = "700000000000000002"
USER = "700000000000000003"
ALL_PERMISSIONS = str((1 << 50) - 1)
TEN_MIB = 10 * 1024 * 1024
_OPTION_TYPES = {bool: 5, int: 4, float: 10, str: 3}


def _base(fake: FakeDiscord, kind: int, *, user_id: str, locale: str, channel_id: str,
          guild_id: str | None, size_limit: int,
          permissions: str = ALL_PERMISSIONS) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": fake.snowflake(), "application_id": fake.app_id, "type": kind,
        "token": "itok-" + secrets.token_urlsafe(24), "version": 1,
        "channel_id": channel_id, "locale": locale, "app_permissions": ALL_PERMISSIONS,
        "entitlements": [], "attachment_size_limit": size_limit,
    }
    user = _user(user_id, f"user{user_id[-4:]}")
    if guild_id is None:
        payload["user"] = user
        payload["channel"] = {"id": channel_id, "type": 1, "recipients": [user]}
        payload["context"] = 1
        return payload
    payload.update(
        guild_id=guild_id, guild_locale="en-US", context=0,
        authorizing_integration_owners={"0": guild_id},
        channel={"id": channel_id, "type": 0, "guild_id": guild_id, "name": "general",
                 "position": 0, "permission_overwrites": [], "nsfw": False, "parent_id": None,
                 "permissions": ALL_PERMISSIONS},
        member={"user": user, "roles": [], "joined_at": "2024-01-01T00:00:00+00:00",
                "deaf": False, "mute": False, "flags": 0, "permissions": permissions},
    )
    return payload


def slash(
    fake: FakeDiscord, name: str, options: dict[str, Any] | None = None, *,
    user_id: str = USER, locale: str = "en-US", channel_id: str = CHANNEL,
    guild_id: str | None = GUILD, size_limit: int = TEN_MIB,
    users: dict[str, str] | None = None, focused: str | None = None,
    sub: str | None = None, channels: dict[str, tuple[str, int]] | None = None,
    permissions: str = ALL_PERMISSIONS, attachments: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A slash command; ``users`` maps user options to ids (sent as resolved users),
    ``attachments`` maps attachment options to ``FakeDiscord.host_attachment`` objects,
    ``channels`` maps channel options to (id, channel type), sent as resolved channels.
    With ``focused`` (an option name) it is the autocomplete request while typing it;
    with ``sub`` the options belong to that subcommand of the group ``name``.
    ``permissions`` are the member's (a decimal bit set, as Discord sends them)."""
    payload = _base(fake, 4 if focused else 2, user_id=user_id, locale=locale,
                    channel_id=channel_id, guild_id=guild_id, size_limit=size_limit,
                    permissions=permissions)
    opts = [{"name": k, "type": _OPTION_TYPES[type(v)], "value": v}
            for k, v in (options or {}).items()]
    for opt in opts:
        if opt["name"] == focused:
            opt["focused"] = True
    resolved: dict[str, Any] = {}
    for k, uid in (users or {}).items():
        opts.append({"name": k, "type": 6, "value": uid})
        resolved.setdefault("users", {})[uid] = _user(uid, f"user{uid[-4:]}")
    for k, (cid, kind) in (channels or {}).items():
        opts.append({"name": k, "type": 7, "value": cid})
        resolved.setdefault("channels", {})[cid] = {
            "id": cid, "type": kind, "name": f"channel{cid[-4:]}", "parent_id": None,
            "permissions": ALL_PERMISSIONS}
    for k, att in (attachments or {}).items():
        opts.append({"name": k, "type": 11, "value": att["id"]})
        resolved.setdefault("attachments", {})[att["id"]] = att
    if sub is not None:
        opts = [{"name": sub, "type": 1, "options": opts}]
    data: dict[str, Any] = {"id": fake.snowflake(), "name": name, "type": 1, "options": opts}
    if resolved:
        data["resolved"] = resolved
    payload["data"] = data
    return payload


def click(
    fake: FakeDiscord, message: dict[str, Any], custom_id: str, *,
    user_id: str = USER, locale: str = "en-US", guild_id: str | None = GUILD,
    size_limit: int = TEN_MIB,
) -> dict[str, Any]:
    """A button click on ``message`` (a message payload the fake recorded)."""
    payload = _base(fake, 3, user_id=user_id, locale=locale,
                    channel_id=message.get("channel_id") or CHANNEL, guild_id=guild_id,
                    size_limit=size_limit)
    payload["message"] = message
    payload["data"] = {"custom_id": custom_id, "component_type": 2}
    return payload


def with_buttons(message: dict[str, Any], *ids: str) -> dict[str, Any]:
    """``message`` as it looks carrying these buttons (e.g. the Retry and Vary under a
    delivered clip): discord.py routes a click only to a button its message has."""
    buttons = [{"type": 2, "style": 1, "label": i.split(":")[1], "custom_id": i} for i in ids]
    return {**message, "components": [{"type": 1, "components": buttons}]}


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components", [])
            for c in row.get("components", []) if "custom_id" in c]
