"""The one place that runs a diffusers video pipeline: load it, generate frames.

The preview model and a real checkpoint go through the same ``DiffusionPipeline`` path, so
what the tests exercise on CPU is what a GPU engine runs.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.fast import SpeedOptions, SpeedSetupError, apply_speed, step_cache
from engine.preview import MARKER

log = logging.getLogger("clipbot.engine")

DEFAULT_NEGATIVE_PROMPT = (
    "blurry, low quality, worst quality, distorted, deformed, static, still frame, "
    "overexposed, jpeg artifacts, watermark, text, subtitles, extra limbs, ugly"
)

_DTYPES = {
    "float32": torch.float32, "fp32": torch.float32,
    "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
    "float16": torch.float16, "fp16": torch.float16,
}


@dataclass(frozen=True)
class GenerationSpec:
    prompt: str
    negative_prompt: str
    width: int
    height: int
    num_frames: int
    steps: int
    guidance_scale: float
    seed: int
    image: bytes | None = None  # first frame for image-to-video (any format Pillow reads)
    # Step caching (FirstBlockCache): roughly half the transformer work, slightly different
    # frames. Off by default so a seed reproduces the same clip.
    fast: bool = False


class ModelLoadError(Exception):
    """The model could not be loaded; the message is one line meant for the operator."""


class GenerationCancelled(Exception):
    """``should_cancel`` said stop; raised between denoising steps."""


class GenerationFailed(Exception):
    """A generation that cannot succeed as asked; ``code`` is a stable error key."""

    def __init__(self, message: str, code: str = "model") -> None:
        super().__init__(message)
        self.code = code


class VideoGenerator:
    """A loaded pipeline on one device. Not thread-safe: run one generation at a time."""

    def __init__(
        self, pipe: Any, model_name: str, device: str, is_preview: bool,
        speed: SpeedOptions | None = None,
    ) -> None:
        """Wrap a pipeline already on ``device``; ``speed`` sets the levers (None: none)."""
        self.pipe = pipe
        self.model_name = model_name
        self.device = device
        self.is_preview = is_preview
        self.speed = speed or SpeedOptions(compile="off", cudnn_benchmark="off")
        self.levers: dict[str, Any] = {}
        if speed is not None:
            try:
                self.levers = apply_speed(pipe, device, speed)
            except SpeedSetupError as exc:
                raise ModelLoadError(str(exc)) from exc
        params = inspect.signature(type(pipe).__call__).parameters
        self.supports_image = "image" in params
        self._max_tokens = _default(params, "max_sequence_length")
        self._can_cache_negative = "negative_prompt_embeds" in params and _has_encode(pipe)
        self._negative_embeds: torch.Tensor | None = None

    @classmethod
    def load(
        cls,
        model: str,
        *,
        device: str | None = None,
        dtype: str | None = None,
        local_files_only: bool = True,
        speed: SpeedOptions | None = None,
    ) -> VideoGenerator:
        """Load a diffusers pipeline from a local folder or a hub id (from the local cache
        unless ``local_files_only`` is False). ``ModelLoadError`` says why it could not.

        ``speed`` picks the levers (default: ``SpeedOptions()``, i.e. auto: the best exact
        attention kernel and a compiled transformer block on CUDA, nothing changed on CPU).
        """
        from diffusers import DiffusionPipeline

        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        torch_dtype = _resolve_dtype(dtype, device)
        folder = _local_folder(model)
        source = str(folder or model)
        try:
            kind = DiffusionPipeline.load_config(source, local_files_only=local_files_only)
            dtypes = _component_dtypes(str(kind.get("_class_name", "")), torch_dtype)
            pipe = DiffusionPipeline.from_pretrained(
                source, local_files_only=local_files_only, **_dtype_kwarg(dtypes)
            )
        except Exception as exc:  # any loader failure becomes one line for the operator
            hint = "" if folder or not local_files_only else " (not in the local hub cache?)"
            raise ModelLoadError(f"cannot load {model!r}{hint}: {_first_line(exc)}") from exc
        _place(pipe, device)
        pipe.set_progress_bar_config(disable=True)
        name = folder.name if folder else model
        preview = folder is not None and (folder / MARKER).is_file()
        gen = cls(pipe, name, device, preview, speed=speed or SpeedOptions())
        log.info("loaded %s (%s) on %s as %s; levers %s", name, type(pipe).__name__, device,
                 torch_dtype, gen.levers)
        return gen

    def warm_up(
        self, buckets: Iterable[Any], *, steps: int = 2, guidance_scale: float = 5.0,
        fast: bool = True,
    ) -> list[tuple[Any, float]]:
        """Prepare every bucket before the first request: returns (bucket, seconds) pairs.

        Always caches the default negative prompt's embeddings. With a compiled transformer
        it also runs each bucket (``width``, ``height``, ``num_frames``) through a short
        generation, in normal and (``fast``) step-cached mode, so compiles and cuDNN
        autotuning happen here and not at request time. Without compile it stops there:
        an eager pipeline has nothing to warm that a first request would pay for twice.
        """
        if self._can_cache_negative:
            self._default_negative_embeds()
        if not self.levers.get("compiled_blocks") and not self.levers.get("cudnn_benchmark"):
            return []
        spent: list[tuple[Any, float]] = []
        for bucket in buckets:
            started = time.perf_counter()
            for cached in (False, True) if fast else (False,):
                self.generate(GenerationSpec(
                    prompt="warm-up", negative_prompt=DEFAULT_NEGATIVE_PROMPT,
                    width=bucket.width, height=bucket.height, num_frames=bucket.num_frames,
                    steps=steps, guidance_scale=guidance_scale, seed=0, fast=cached,
                ))
            spent.append((bucket, time.perf_counter() - started))
            log.info("warmed %dx%dx%d in %.1fs", bucket.width, bucket.height,
                     bucket.num_frames, spent[-1][1])
        return spent

    def generate(
        self,
        spec: GenerationSpec,
        on_step: Callable[[int, int], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> np.ndarray:
        """Run the pipeline and return uint8 RGB frames [T,H,W,3].

        ``on_step(done, total)`` follows each denoising step; ``should_cancel()`` is polled
        there too and ends the run with ``GenerationCancelled``.
        """
        if should_cancel is not None and should_cancel():
            raise GenerationCancelled
        kwargs = self._call_kwargs(spec)

        def step_end(_pipe: Any, index: int, _t: Any, _tensors: dict) -> dict:
            if on_step is not None:
                on_step(index + 1, spec.steps)
            if should_cancel is not None and should_cancel():
                raise GenerationCancelled
            return {}

        cache = (
            step_cache(self.pipe.transformer, self.speed.fast_threshold)
            if spec.fast and getattr(self.pipe, "transformer", None) is not None
            else contextlib.nullcontext()
        )
        try:
            with torch.inference_mode(), cache:
                out = self.pipe(**kwargs, callback_on_step_end=step_end)
        except torch.cuda.OutOfMemoryError as exc:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            raise GenerationFailed(
                f"out of GPU memory for {spec.width}×{spec.height}×{spec.num_frames}; "
                "try fewer seconds", code="oom",
            ) from exc
        return _to_uint8(out.frames[0])

    def _call_kwargs(self, spec: GenerationSpec) -> dict[str, Any]:
        kwargs: dict[str, Any] = dict(
            prompt=spec.prompt, height=spec.height, width=spec.width,
            num_frames=spec.num_frames, num_inference_steps=spec.steps,
            guidance_scale=spec.guidance_scale, output_type="np",
            generator=torch.Generator(self.device).manual_seed(spec.seed),
        )
        if spec.negative_prompt == DEFAULT_NEGATIVE_PROMPT and self._can_cache_negative:
            kwargs["negative_prompt_embeds"] = self._default_negative_embeds()
        else:
            kwargs["negative_prompt"] = spec.negative_prompt
        if spec.image is not None:
            if not self.supports_image:
                raise GenerationFailed(f"{self.model_name} cannot animate an image")
            kwargs["image"] = _load_image(spec.image, spec.width, spec.height)
        return kwargs

    def _default_negative_embeds(self) -> torch.Tensor:
        # The same negative prompt on every job: encode it once, not once per job.
        if self._negative_embeds is None:
            extra = {} if self._max_tokens is None else {"max_sequence_length": self._max_tokens}
            with torch.inference_mode():
                embeds, _ = self.pipe.encode_prompt(
                    prompt=DEFAULT_NEGATIVE_PROMPT, do_classifier_free_guidance=False,
                    device=torch.device(self.device), **extra,
                )
            self._negative_embeds = embeds
        return self._negative_embeds


def _place(pipe: Any, device: str) -> None:
    """Everything on ``device``; CPU offload only when the GPU is too small for that."""
    try:
        pipe.to(device)
    except torch.cuda.OutOfMemoryError:
        # Offload moves each model to the GPU only while it runs: slower, but it runs.
        pipe.to("cpu")
        torch.cuda.empty_cache()
        log.warning("model does not fit on %s; using model CPU offload (slower)", device)
        pipe.enable_model_cpu_offload(device=device)


def _local_folder(model: str) -> Path | None:
    """The folder ``model`` names, None for a hub id; a folder that is not a pipeline fails."""
    path = Path(model).expanduser()
    looks_local = path.is_absolute() or model.startswith((".", "~")) or model.count("/") != 1
    if not path.exists():
        if looks_local:
            raise ModelLoadError(f"model folder {model!r} does not exist")
        return None
    if not path.is_dir():
        raise ModelLoadError(f"{model!r} is a file, not a diffusers pipeline folder")
    if not (path / "model_index.json").is_file():
        raise ModelLoadError(f"{model!r} is not a diffusers pipeline folder (no model_index.json)")
    return path


def _resolve_dtype(name: str | None, device: str) -> torch.dtype:
    if name is None or name == "auto":
        # bf16 halves memory and doubles tensor-core speed on GPU; CPUs are slow at it.
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    try:
        return _DTYPES[name.lower()]
    except KeyError:
        raise ModelLoadError(f"unknown dtype {name!r}; use one of {', '.join(_DTYPES)}") from None


def _component_dtypes(pipeline_class: str, dtype: torch.dtype) -> dict[str, torch.dtype]:
    if pipeline_class.startswith("Wan") and dtype != torch.float32:
        # Wan's VAE decodes visibly better in float32 (diffusers' recommendation); it is
        # small, so the cost is a little memory and one decode per clip.
        return {"default": dtype, "vae": torch.float32}
    return {"default": dtype}


def _dtype_kwarg(dtype: dict[str, torch.dtype]) -> dict[str, Any]:
    # Newer diffusers renamed torch_dtype to dtype and warns on the old name; older ones
    # only know torch_dtype. The helper exists exactly where the new name does.
    try:
        from diffusers.utils.deprecation_utils import _resolve_dtype as _new_api  # noqa: F401
    except ImportError:
        return {"torch_dtype": dtype}
    return {"dtype": dtype}


def _default(params: Any, name: str) -> Any:
    param = params.get(name)
    if param is None or param.default is inspect.Parameter.empty:
        return None
    return param.default


def _has_encode(pipe: Any) -> bool:
    encode = getattr(pipe, "encode_prompt", None)
    if encode is None:
        return False
    params = inspect.signature(encode).parameters
    return {"prompt", "do_classifier_free_guidance", "device"} <= params.keys()


def _load_image(data: bytes, width: int, height: int) -> Any:
    from PIL import Image, ImageOps

    image = Image.open(io.BytesIO(data)).convert("RGB")
    # Crop to the bucket's aspect rather than stretch: faces stay faces.
    return ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)


def _to_uint8(video: Any) -> np.ndarray:
    frames = np.asarray(video, dtype=np.float32)
    return (np.clip(frames, 0.0, 1.0) * 255.0).round().astype(np.uint8)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
