"""Serving finished clips to their owner only, with HTTP ranges (phones seek and resume)."""

from __future__ import annotations

import re

from aiohttp import web

from bots.web.context import ApiError, ctx, safe_id, session
from storage import JobRecord, JobState

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for a single-range header; None means the whole body.
    Raises ValueError for a range that can't be satisfied. Pure."""
    if not header:
        return None
    m = _RANGE.fullmatch(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None  # multi-range or junk: RFC 9110 lets us ignore it and send everything
    if not m.group(1):  # suffix: the last N bytes
        n = int(m.group(2))
        if n == 0 or size == 0:
            raise ValueError("unsatisfiable")
        return max(0, size - n), size - 1
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) else size - 1
    if first >= size or last < first:
        raise ValueError("unsatisfiable")
    return first, min(last, size - 1)


async def owned_job(request: web.Request) -> JobRecord:
    """The job named in the URL, if it belongs to this browser; 404 otherwise (the same
    answer for someone else's job as for no job, so ids can't be probed)."""
    job_id = safe_id(request.match_info.get("job_id"))
    s = session(request)
    job = None if s.fresh else await ctx(request).storage.jobs.get(job_id)
    if job is None or job.user != f"web:{s.user_id}":
        raise ApiError(404, "not_found")
    return job


async def clip(request: web.Request) -> web.Response:
    job = await owned_job(request)
    if job.state is not JobState.DONE or not job.clip_id:
        raise ApiError(404, "not_found")
    data = await ctx(request).storage.clips.get(job.clip_id)
    if data is None:
        raise ApiError(404, "not_found")
    headers = {
        "Content-Type": "video/mp4",
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=3600",
    }
    if request.query.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="clip-{job.id}.mp4"'
    try:
        span = parse_range(request.headers.get("Range"), len(data))
    except ValueError:
        return web.Response(status=416, headers={"Content-Range": f"bytes */{len(data)}"})
    if span is None:
        return web.Response(body=data, headers=headers)
    first, last = span
    headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
    return web.Response(status=206, body=data[first : last + 1], headers=headers)


async def thumb(request: web.Request) -> web.Response:
    job = await owned_job(request)
    data = await ctx(request).storage.clips.thumb(job.clip_id) if job.clip_id else None
    if data is None:
        raise ApiError(404, "not_found")
    return web.Response(
        body=data, headers={"Content-Type": "image/jpeg", "Cache-Control": "private, max-age=3600"}
    )
