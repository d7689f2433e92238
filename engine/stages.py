"""The points of a job's life where an engine checks whether its user cancelled it.

A cancel (or ``/forget``) is honoured at every one of them; the finish script refuses a
cancelled job as the last fence. A ``StageHook`` lets an operator's tooling or a test act at
an exact stage (it runs just before the check there).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum


class Stage(StrEnum):
    STEP = "step"  # after a denoising step that is not the last one
    LAST_STEP = "last_step"  # after the last denoising step, before the VAE decodes
    ENCODE = "encode"  # frames decoded, before the MP4 encode
    STORE = "store"  # encoded, before the clip is stored
    FINISH = "finish"  # clip stored, before the job ends (finish.lua refuses a cancelled job)


# (stage, job id, step) -> awaited on the engine's event loop before the check at that stage.
StageHook = Callable[[Stage, str, int], Awaitable[None]]
