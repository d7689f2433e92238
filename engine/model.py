"""Which model an engine serves: the configured one, or the built-in preview model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REAL_MODEL = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"


@dataclass(frozen=True)
class ModelChoice:
    source: str  # a local folder or a hub id
    profile: str  # bucket sizes: "preview" (tiny) or "full"
    default_steps: int
    local_only: bool  # True: never contact the hub


def choose_model(setting: str, cache_dir: Path, *, cuda: bool) -> ModelChoice:
    """'auto' means the real Wan 2.1 model on a CUDA GPU and the preview model elsewhere."""
    if setting == "preview" or (setting == "auto" and not cuda):
        from engine.preview import ensure_preview_model

        folder = ensure_preview_model(cache_dir)
        return ModelChoice(str(folder), "preview", 6, True)
    source = REAL_MODEL if setting == "auto" else setting
    folder = Path(source).expanduser()
    if folder.exists():
        preview = (folder / "clipbot_preview.json").exists()
        if preview:
            return ModelChoice(str(folder), "preview", 6, True)
        return ModelChoice(str(folder), "full", 50, True)
    return ModelChoice(source, "full", 50, False)
