"""``/settings``: a server's managers choose where ``/video`` works and how many clips the
whole server may make per day. Answers are private and in the caller's language."""

from __future__ import annotations

import discord
from discord import app_commands

from bots.discord import flows, policy
from bots.discord.deps import deps_of
from bots.discord.translator import localised as _s
from bots.i18n import duration, t

# Channels where a slash command can be typed (not categories, not directories).
USABLE_CHANNELS = frozenset({
    discord.ChannelType.text, discord.ChannelType.news, discord.ChannelType.voice,
    discord.ChannelType.stage_voice, discord.ChannelType.forum, discord.ChannelType.media,
})


# Hidden from members without Manage Server by default; checked again on every call.
group = app_commands.Group(
    name="settings", description=_s("dc_cmd_settings"), guild_only=True,
    default_permissions=discord.Permissions(manage_guild=True),
)


def may_manage(interaction: discord.Interaction) -> bool:
    """Members with Manage Server (or Administrator), and the bot's operators."""
    perms = interaction.permissions
    if perms.manage_guild or perms.administrator:
        return True
    return deps_of(interaction).service.is_admin(flows.who_of(interaction))


async def _manager(interaction: discord.Interaction) -> str | None:
    """Defer privately; the server's storage name when the caller may manage it."""
    if not await flows.defer_private(interaction):
        return None
    locale = flows.who_of(interaction).locale
    if interaction.guild_id is None:
        await flows.answer_private(interaction, t(locale, "dc_settings_guild_only"))
        return None
    if not may_manage(interaction):
        await flows.answer_private(interaction, t(locale, "dc_settings_managers_only"))
        return None
    return policy.guild_name(str(interaction.guild_id))


async def summary(interaction: discord.Interaction, guild: str) -> str:
    """The server's settings as the caller reads them."""
    locale = flows.who_of(interaction).locale
    guilds = deps_of(interaction).storage.guilds
    settings = await guilds.get(guild)
    if settings.channels:
        where = t(locale, "dc_settings_channels", channels=policy.mentions(settings.channels))
    else:
        where = t(locale, "dc_settings_channels_all")
    if settings.daily_clips:
        used, reset_s = await guilds.pool_used(guild)
        pool = t(locale, "dc_settings_pool", used=used,
                 clips=settings.daily_clips, reset=duration(locale, reset_s))
    else:
        pool = t(locale, "dc_settings_pool_off")
    return f"{where}\n{pool}"


async def _done(interaction: discord.Interaction, guild: str, line: str) -> None:
    await flows.answer_private(interaction, f"{line}\n\n{await summary(interaction, guild)}")


def _usable(interaction: discord.Interaction, channel: app_commands.AppCommandChannel) -> bool:
    return channel.guild_id == interaction.guild_id and channel.type in USABLE_CHANNELS


@group.command(name="show", description=_s("dc_cmd_settings_show"))
async def show(interaction: discord.Interaction) -> None:
    if (guild := await _manager(interaction)) is not None:
        await flows.answer_private(interaction, await summary(interaction, guild))


@group.command(name="channel-add", description=_s("dc_cmd_settings_channel_add"))
@app_commands.describe(channel=_s("dc_opt_channel"))
async def channel_add(
    interaction: discord.Interaction, channel: app_commands.AppCommandChannel
) -> None:
    if (guild := await _manager(interaction)) is None:
        return
    locale = flows.who_of(interaction).locale
    if not _usable(interaction, channel):
        await flows.answer_private(interaction, t(locale, "dc_settings_bad_channel"))
        return
    outcome = await deps_of(interaction).storage.guilds.add_channel(
        guild, str(channel.id), max_channels=policy.MAX_CHANNELS
    )
    key = {"added": "dc_settings_channel_added", "present": "dc_settings_channel_present",
           "full": "dc_settings_channels_full"}[outcome]
    await _done(interaction, guild,
                t(locale, key, channel=channel.mention, max=policy.MAX_CHANNELS))


@group.command(name="channel-remove", description=_s("dc_cmd_settings_channel_remove"))
@app_commands.describe(channel=_s("dc_opt_channel"))
async def channel_remove(
    interaction: discord.Interaction, channel: app_commands.AppCommandChannel
) -> None:
    if (guild := await _manager(interaction)) is None:
        return
    locale = flows.who_of(interaction).locale
    removed = await deps_of(interaction).storage.guilds.remove_channel(guild, str(channel.id))
    key = "dc_settings_channel_removed" if removed else "dc_settings_channel_absent"
    await _done(interaction, guild, t(locale, key, channel=channel.mention))


@group.command(name="pool", description=_s("dc_cmd_settings_pool"))
@app_commands.describe(clips=_s("dc_opt_pool_clips"))
async def pool(
    interaction: discord.Interaction, clips: app_commands.Range[int, 0, policy.MAX_POOL]
) -> None:
    if (guild := await _manager(interaction)) is None:
        return
    locale = flows.who_of(interaction).locale
    # Discord's app keeps to the range, but the server must not rely on that.
    if not policy.pool_ok(clips):
        await flows.answer_private(
            interaction, t(locale, "dc_settings_bad_pool", max=policy.MAX_POOL))
        return
    await deps_of(interaction).storage.guilds.set_pool(guild, clips)
    if clips:
        line = t(locale, "dc_settings_pool_set", clips=clips)
    else:
        line = t(locale, "dc_settings_pool_cleared")
    await _done(interaction, guild, line)
