"""Speed levers for a loaded diffusers video pipeline, each one switchable.

- attention backend: FlashAttention 3 on Hopper when it is installed, else PyTorch SDPA;
- regional ``torch.compile`` of the repeated transformer block (CUDA only), warmed per
  bucket by ``VideoGenerator.warm_up`` so no request pays for a compile;
- cuDNN autotuning for the VAE's 3-D convolutions (CUDA only);
- ``step_cache``: diffusers' FirstBlockCache for the optional ``fast`` quality mode.

The pure choices (``resolve_attention``, ``should_compile``) take no torch objects, so they
are tested with tables; the rest touches the model and runs once at load time.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("clipbot.engine")

# Names operators type, mapped to diffusers' AttentionBackendName values.
ATTENTION_ALIASES: dict[str, str] = {
    "sdpa": "native", "native": "native", "torch": "native",
    "flash3": "_flash_3", "fa3": "_flash_3", "_flash_3": "_flash_3",
    "flash": "flash", "flash2": "flash", "fa2": "flash",
    "sage": "sage", "sageattention": "sage",
    "xformers": "xformers", "flex": "flex",
}
# What ``auto`` tries on CUDA, best first. Only exact kernels: SageAttention quantises Q·K to
# int8, so it is used only when an operator asks for it. FlashAttention 2 is left out because
# SDPA already dispatches to the same (or cuDNN's faster) kernel on Ampere/Hopper.
AUTO_ORDER: tuple[str, ...] = ("_flash_3",)
_NEEDS_HOPPER = frozenset({"_flash_3"})
SWITCHES = ("auto", "on", "off")


@dataclass(frozen=True)
class SpeedOptions:
    attention: str = "auto"  # auto | sdpa | flash3 | flash | sage | xformers | flex
    compile: str = "auto"  # auto (CUDA only) | on | off
    cudnn_benchmark: str = "auto"  # auto (CUDA only) | on | off
    # FirstBlockCache: reuse the other blocks' residual while block 0's output changes by
    # less than this fraction between steps (diffusers' default; tune on real weights).
    fast_threshold: float = 0.05


class SpeedSetupError(Exception):
    """An explicitly requested lever cannot run here; the message is for the operator."""


def resolve_attention(
    requested: str, device: str, available: Callable[[str], bool], hopper: bool
) -> str:
    """The diffusers backend name to use. ``auto`` falls back to SDPA (``native``)."""
    name = requested.strip().lower()
    if name == "auto":
        if not device.startswith("cuda"):
            return "native"
        for candidate in AUTO_ORDER:
            if (hopper or candidate not in _NEEDS_HOPPER) and available(candidate):
                return candidate
        return "native"
    backend = ATTENTION_ALIASES.get(name)
    if backend is None:
        known = ", ".join(["auto", *sorted(ATTENTION_ALIASES)])
        raise SpeedSetupError(f"unknown attention backend {requested!r}; use one of {known}")
    if backend != "native" and not device.startswith("cuda"):
        raise SpeedSetupError(f"attention backend {requested!r} needs a CUDA device")
    if backend in _NEEDS_HOPPER and not hopper:
        raise SpeedSetupError(f"attention backend {requested!r} needs a Hopper GPU (H100/H200)")
    if backend != "native" and not available(backend):
        raise SpeedSetupError(f"attention backend {requested!r} is not installed here")
    return backend


def should_compile(setting: str, device: str) -> bool:
    """``auto`` compiles on CUDA only: on CPU the compile costs more than it saves."""
    return _switch(setting, "compile", device)


def _switch(setting: str, what: str, device: str) -> bool:
    value = setting.strip().lower()
    if value not in SWITCHES:
        raise SpeedSetupError(f"{what} must be one of {', '.join(SWITCHES)}, got {setting!r}")
    return device.startswith("cuda") if value == "auto" else value == "on"


def backend_available(name: str) -> bool:
    """Whether diffusers can run attention backend ``name`` here (package + version)."""
    try:
        from diffusers.models.attention_dispatch import (
            AttentionBackendName,
            _check_attention_backend_requirements,
        )

        _check_attention_backend_requirements(AttentionBackendName(name))
    except (ImportError, RuntimeError, ValueError):
        return False
    return True


def is_hopper(device: str) -> bool:
    import torch

    if not device.startswith("cuda") or not torch.cuda.is_available():
        return False
    return torch.cuda.get_device_capability(torch.device(device))[0] == 9


def apply_speed(pipe: Any, device: str, options: SpeedOptions) -> dict[str, Any]:
    """Set the levers on ``pipe`` (in place) and return what was chosen, for logs/benches."""
    transformer = getattr(pipe, "transformer", None)
    chosen: dict[str, Any] = {"attention": "native", "compiled_blocks": 0, "cudnn_benchmark": False}
    if transformer is None:
        return chosen
    backend = resolve_attention(options.attention, device, backend_available, is_hopper(device))
    if backend != "native":
        # Left untouched for SDPA: the default processor already calls it, and the preview
        # path stays exactly what it was.
        transformer.set_attention_backend(backend)
    chosen["attention"] = backend
    if _switch(options.cudnn_benchmark, "cudnn_benchmark", device):
        import torch

        # The VAE's Conv3d layers see one fixed shape per bucket: autotune them once.
        torch.backends.cudnn.benchmark = True
        chosen["cudnn_benchmark"] = True
    if should_compile(options.compile, device):
        chosen["compiled_blocks"] = compile_blocks(transformer)
    return chosen


def compile_blocks(transformer: Any, *, buckets: int = 32) -> int:
    """Regional compile: each repeated block's ``forward`` goes through ``torch.compile``.

    Same effect as diffusers' ``compile_repeated_blocks(fullgraph=True)`` (one graph per
    shape, shared by all blocks of the class), but it compiles ``forward`` rather than
    ``__call__``: diffusers' cache hooks (FirstBlockCache) wrap ``forward`` and make a
    data-dependent skip decision, which must stay outside the compiled graph. Hooks added
    later wrap the compiled function and run eagerly around it.
    """
    import torch

    names = set(getattr(transformer, "_repeated_blocks", ()) or ())
    if not names:
        raise SpeedSetupError(f"{type(transformer).__name__} declares no repeated blocks")
    # Static shapes give the best kernels; one graph per bucket (and per text length)
    # must fit under the recompile limit or late buckets would fall back to eager.
    dynamo = torch._dynamo.config
    limit_name = "recompile_limit" if hasattr(dynamo, "recompile_limit") else "cache_size_limit"
    setattr(dynamo, limit_name, max(getattr(dynamo, limit_name), 2 * buckets))
    if hasattr(dynamo, "accumulated_recompile_limit"):
        dynamo.accumulated_recompile_limit = max(dynamo.accumulated_recompile_limit, 64 * buckets)
    count = 0
    for module in transformer.modules():
        if type(module).__name__ in names:
            module.forward = torch.compile(module.forward, fullgraph=True, dynamic=False)
            count += 1
    if count == 0:
        raise SpeedSetupError(f"no {sorted(names)} blocks found to compile")
    return count


@contextlib.contextmanager
def step_cache(transformer: Any, threshold: float) -> Iterator[None]:
    """FirstBlockCache on ``transformer`` for the duration of one generation.

    Hooks are added and removed around the call so normal requests run the exact model.
    """
    from diffusers.hooks import FirstBlockCacheConfig

    transformer.enable_cache(FirstBlockCacheConfig(threshold=threshold))
    try:
        yield
    finally:
        transformer.disable_cache()
