"""Engine speed, side by side: clipbot's generator vs plain diffusers ``WanPipeline``.

Builds the real Wan2.1-T2V-1.3B architecture (transformer, Wan VAE, a umT5-XXL-shaped text
encoder) from its published config with random weights: modules are created on the meta
device and materialised straight on the target device, so nothing is downloaded and no
fp32 copy ever sits in host memory. Compute time does not depend on weight values.

For every shape it reports text-encode, denoise (total and per step), VAE decode, MP4
encode, end to end, peak GPU memory and denoise MFU, for the baseline (plain WanPipeline,
library defaults, model-card dtypes) and for ours (``VideoGenerator`` with its levers),
plus the ``fast`` mode (FirstBlockCache) with its PSNR against our normal output.

  python bench/engine.py --scale full   # on a GPU: 480p shapes, 50 steps, CFG 5.0
  python bench/engine.py --scale cpu    # seconds on CPU, so the bench cannot rot

Writes bench/results/engine-<gpu-or-cpu>.json and prints a table.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would shadow the
# ``engine`` package: put the repository root there instead.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import copy
import json
import math
import platform
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from clipbot.media import encode_mp4
from engine.fast import SpeedOptions
from engine.pipeline import DEFAULT_NEGATIVE_PROMPT, GenerationSpec, VideoGenerator
from engine.preview import build_tokenizer

HERE = Path(__file__).parent
PROMPT = "a bakery window at sunrise, steam rising from fresh bread, slow camera push in"
FPS = 16
TEXT_TOKENS = 512  # WanPipeline pads every prompt to max_sequence_length
# Dense bf16 tensor peak (no sparsity), TFLOPS, from the vendors' datasheets; matched
# against torch.cuda.get_device_name, most specific first.
PEAK_BF16_TFLOPS: tuple[tuple[str, float], ...] = (
    ("H100 PCIe", 756.0), ("H100", 989.0), ("H200", 989.0), ("A100", 312.0),
    ("L40S", 362.0), ("RTX 4090", 165.0),
)


@dataclass(frozen=True)
class Shape:
    width: int
    height: int
    frames: int

    @property
    def label(self) -> str:
        return f"{self.width}x{self.height}x{self.frames}"


@dataclass(frozen=True)
class Scale:
    name: str
    transformer: dict[str, Any]
    vae: dict[str, Any]
    text: dict[str, Any]
    shapes: tuple[Shape, ...]
    steps: int
    guidance: float
    ladder_steps: int  # steps per extra lever measurement (the largest shape only)
    note: str = ""


def _shapes(sizes: tuple[tuple[int, int], ...], frames: tuple[int, ...]) -> tuple[Shape, ...]:
    return tuple(Shape(w, h, f) for (w, h) in sizes for f in frames)


FULL = Scale(
    name="full",
    # Wan-AI/Wan2.1-T2V-1.3B-Diffusers transformer/config.json
    transformer=dict(
        patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128, in_channels=16,
        out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=8960, num_layers=30,
        cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024,
    ),
    vae={},  # AutoencoderKLWan's defaults are the Wan 2.1 VAE (base_dim 96, z_dim 16)
    # google/umt5-xxl encoder
    text=dict(
        vocab_size=256384, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
        relative_attention_num_buckets=32, relative_attention_max_distance=128,
        feed_forward_proj="gated-gelu", pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
    ),
    shapes=_shapes(((832, 480), (480, 832), (480, 480)), (81, 49, 33)),
    steps=50, guidance=5.0, ladder_steps=5,
)
CPU = Scale(
    name="cpu",
    transformer=dict(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=16, in_channels=16,
        out_channels=16, text_dim=32, freq_dim=256, ffn_dim=64, num_layers=4,
        cross_attn_norm=True, qk_norm="rms_norm_across_heads", rope_max_seq_len=1024,
    ),
    vae=dict(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
             temperal_downsample=[False, True, True]),
    text=dict(vocab_size=512, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
              relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1,
              decoder_start_token_id=0),
    shapes=_shapes(((64, 32), (32, 64), (32, 32)), (13, 9, 5)),
    steps=4, guidance=5.0, ladder_steps=2,
    note="scaled-down CPU config (tiny model, tiny shapes, 4 steps): checks that the bench "
         "runs; its timings say nothing about GPU speed",
)
SCALES = {"full": FULL, "cpu": CPU}


# --- building the model without a download -------------------------------------------

def build_pipeline(scale: Scale, device: str, dtype: torch.dtype, seed: int = 0) -> Any:
    """A WanPipeline of ``scale``'s architecture with random weights on ``device``."""
    from accelerate import init_empty_weights
    from diffusers import (
        AutoencoderKLWan,
        UniPCMultistepScheduler,
        WanPipeline,
        WanTransformer3DModel,
    )
    from transformers import UMT5Config, UMT5EncoderModel

    # Parameters are created on the meta device (no memory); buffers such as the RoPE
    # tables are real, small, and computed by the constructors.
    with init_empty_weights():
        transformer = WanTransformer3DModel(**scale.transformer)
        vae = AutoencoderKLWan(**scale.vae)
        text_encoder = UMT5EncoderModel(UMT5Config(**scale.text))
    # Wan's VAE runs in float32 (diffusers' recommendation), the rest in the compute dtype.
    for module, module_dtype, offset in (
        (transformer, dtype, 1), (vae, torch.float32, 2), (text_encoder, dtype, 3),
    ):
        materialise(module, device, module_dtype, seed + offset)
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, num_train_timesteps=1000,
        flow_shift=3.0,
    )
    pipe = WanPipeline(tokenizer=build_tokenizer(), text_encoder=text_encoder, vae=vae,
                       scheduler=scheduler, transformer=transformer)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def materialise(module: torch.nn.Module, device: str, dtype: torch.dtype, seed: int) -> None:
    """Replace meta parameters by random ones made on ``device`` (tied ones stay tied)."""
    gen = torch.Generator(device).manual_seed(seed)
    made: dict[int, torch.nn.Parameter] = {}
    for sub in module.modules():
        for name, param in list(sub._parameters.items()):
            if param is None:
                continue
            if id(param) not in made:
                data = torch.empty(param.shape, device=device, dtype=dtype)
                _init(name, data, gen)
                made[id(param)] = torch.nn.Parameter(data, requires_grad=False)
            sub._parameters[name] = made[id(param)]
    module.to(device)  # the buffers
    module.eval()


def _init(name: str, data: torch.Tensor, gen: torch.Generator) -> None:
    # Variance-preserving weights keep 30 random layers finite in bf16 (no NaN/inf, which
    # would also fool the step cache); norms start at 1 and biases at 0.
    if data.ndim >= 2:
        fan_in = data.numel() // data.shape[0]
        data.normal_(0.0, 1.0 / math.sqrt(fan_in), generator=gen)
    elif name == "bias":
        data.zero_()
    else:
        data.fill_(1.0)


# --- FLOPs and MFU --------------------------------------------------------------------

def tokens(shape: Shape, patch: tuple[int, int, int]) -> int:
    """Video tokens the transformer sees: VAE 4× time / 8× space, then the patch grid."""
    latent_frames = (shape.frames - 1) // 4 + 1
    return (latent_frames // patch[0]) * (shape.height // 8 // patch[1]) * (
        shape.width // 8 // patch[2])


def forward_flops(transformer: torch.nn.Module, video_tokens: int, text_tokens: int) -> float:
    """One transformer forward: 2·params·rows per linear, 4·Lq·Lk·dim per attention."""
    total = 0.0
    for name, module in transformer.named_modules():
        if not isinstance(module, torch.nn.Linear | torch.nn.Conv3d):
            continue
        if "time_embedder" in name or "time_proj" in name:
            rows = 1  # one timestep per sample
        elif "text_embedder" in name or name.endswith(("attn2.to_k", "attn2.to_v")):
            rows = text_tokens
        else:
            rows = video_tokens
        total += 2.0 * module.weight.numel() * rows
    cfg = transformer.config
    dim = cfg.num_attention_heads * cfg.attention_head_dim
    per_layer = 4.0 * video_tokens * video_tokens * dim + 4.0 * video_tokens * text_tokens * dim
    return total + cfg.num_layers * per_layer


def peak_tflops(device_name: str) -> float | None:
    for key, value in PEAK_BF16_TFLOPS:
        if key.lower() in device_name.lower():
            return value
    return None


# --- timing ---------------------------------------------------------------------------

class PhaseClock:
    """Times text encoding and VAE decoding inside a pipeline call; denoise is between."""

    def __init__(self, device: str) -> None:
        self.cuda = device.startswith("cuda")
        self.reset()

    def reset(self) -> None:
        self.text_s, self.decode_s = 0.0, 0.0
        self.text_end = self.decode_start = 0.0

    def sync(self) -> float:
        if self.cuda:
            torch.cuda.synchronize()
        return time.perf_counter()

    def attach(self, pipe: Any) -> None:
        # Instance attributes shadow the methods for this pipeline object only.
        encode, decode = pipe.encode_prompt, pipe.vae.decode
        if getattr(decode, "_clocked", False):
            decode = decode.__wrapped__

        def timed_encode(*args: Any, **kwargs: Any) -> Any:
            start = self.sync()
            out = encode(*args, **kwargs)
            self.text_end = self.sync()
            self.text_s += self.text_end - start
            return out

        def timed_decode(*args: Any, **kwargs: Any) -> Any:
            self.decode_start = self.sync()
            out = decode(*args, **kwargs)
            self.decode_s += self.sync() - self.decode_start
            return out

        timed_decode._clocked = True  # type: ignore[attr-defined]
        timed_decode.__wrapped__ = decode  # type: ignore[attr-defined]
        pipe.encode_prompt, pipe.vae.decode = timed_encode, timed_decode


@dataclass
class Run:
    text_encode_s: float
    denoise_s: float
    denoise_s_per_step: float
    vae_decode_s: float
    mp4_encode_s: float
    end_to_end_s: float
    peak_gpu_mem_gb: float | None
    denoise_tflops: float
    mfu: float | None
    frames: np.ndarray = field(repr=False)

    def fields(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("frames")
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


@dataclass
class Bench:
    scale: Scale
    device: str
    peak: float | None
    clock: PhaseClock
    flops: Callable[[Shape, int], float]

    def measure(self, call: Callable[[], np.ndarray], shape: Shape, steps: int,
                repeats: int) -> Run:
        """Median-of-``repeats`` (by end-to-end time) of one shape."""
        runs = [self._once(call, shape, steps) for _ in range(repeats)]
        return sorted(runs, key=lambda r: r.end_to_end_s)[len(runs) // 2]

    def _once(self, call: Callable[[], np.ndarray], shape: Shape, steps: int) -> Run:
        cuda = self.device.startswith("cuda")
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        self.clock.reset()
        start = self.clock.sync()
        frames = call()
        generated = self.clock.sync()
        encode_mp4(frames, FPS)
        done = time.perf_counter()
        denoise = self.clock.decode_start - self.clock.text_end
        work = self.flops(shape, steps)
        mfu = None if self.peak is None else work / denoise / (self.peak * 1e12)
        return Run(
            text_encode_s=self.clock.text_s, denoise_s=denoise,
            denoise_s_per_step=denoise / steps, vae_decode_s=self.clock.decode_s,
            mp4_encode_s=done - generated, end_to_end_s=done - start,
            peak_gpu_mem_gb=torch.cuda.max_memory_allocated() / 2**30 if cuda else None,
            denoise_tflops=work / 1e12, mfu=mfu, frames=frames,
        )


def psnr(a: np.ndarray, b: np.ndarray) -> float | None:
    """Peak signal-to-noise ratio of two uint8 clips in dB; None when they are identical."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return None if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def to_uint8(video: Any) -> np.ndarray:
    frames = np.asarray(video, dtype=np.float32)
    return (np.clip(frames, 0.0, 1.0) * 255.0).round().astype(np.uint8)


# --- the side-by-side run -------------------------------------------------------------

def baseline_call(pipe: Any, shape: Shape, steps: int, guidance: float,
                  device: str) -> Callable[[], np.ndarray]:
    """Plain WanPipeline as its docs show it: negative prompt as text, SDPA, no compile."""

    def call() -> np.ndarray:
        with torch.inference_mode():
            out = pipe(
                prompt=PROMPT, negative_prompt=DEFAULT_NEGATIVE_PROMPT, height=shape.height,
                width=shape.width, num_frames=shape.frames, num_inference_steps=steps,
                guidance_scale=guidance, generator=torch.Generator(device).manual_seed(0),
                output_type="np",
            )
        return to_uint8(out.frames[0])

    return call


def ours_call(gen: VideoGenerator, shape: Shape, steps: int, guidance: float,
              fast: bool = False) -> Callable[[], np.ndarray]:
    spec = GenerationSpec(
        prompt=PROMPT, negative_prompt=DEFAULT_NEGATIVE_PROMPT, width=shape.width,
        height=shape.height, num_frames=shape.frames, steps=steps, guidance_scale=guidance,
        seed=0, fast=fast,
    )
    return lambda: gen.generate(spec)


def fresh_pipe(pipe: Any, clock: PhaseClock, **swap: Any) -> Any:
    """Another WanPipeline over the same modules (``swap`` replaces some)."""
    from diffusers import WanPipeline

    parts = {k: getattr(pipe, k) for k in
             ("tokenizer", "text_encoder", "vae", "scheduler", "transformer")}
    parts["scheduler"] = copy.deepcopy(pipe.scheduler)
    other = WanPipeline(**{**parts, **swap})
    other.set_progress_bar_config(disable=True)
    clock.attach(other)
    return other


def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    scale = SCALES[args.scale]
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    cuda = device.startswith("cuda")
    dtype = torch.bfloat16 if cuda else torch.float32  # the engine's own auto choice
    shapes = [s for s in scale.shapes if not args.shapes or s.label in args.shapes]
    steps = args.steps or scale.steps
    name = torch.cuda.get_device_name(torch.device(device)) if cuda else _cpu_name()
    clock = PhaseClock(device)
    started = time.perf_counter()
    pipe = build_pipeline(scale, device, dtype)
    build_s = time.perf_counter() - started
    transformer = pipe.transformer
    patch = tuple(transformer.config.patch_size)

    def flops(shape: Shape, n_steps: int) -> float:
        cfg_branches = 2 if scale.guidance > 1.0 else 1
        return forward_flops(transformer, tokens(shape, patch), TEXT_TOKENS) * cfg_branches * (
            n_steps)

    bench = Bench(scale, device, peak_tflops(name) if cuda else None, clock, flops)
    rows: dict[str, dict[str, Any]] = {s.label: {"shape": asdict(s)} for s in shapes}
    log = _printer(args.quiet)

    # 1. Baseline first: our levers change the shared transformer in place.
    base = fresh_pipe(pipe, clock)
    for shape in shapes:
        call = baseline_call(base, shape, steps, scale.guidance, device)
        baseline_call(base, shape, 2, scale.guidance, device)()  # CUDA/cuBLAS warm-up
        run = bench.measure(call, shape, steps, args.repeats)
        rows[shape.label]["baseline"] = run.fields()
        log(f"baseline {shape.label}: {run.end_to_end_s:.2f}s")

    # 2. Levers measured one at a time on the largest shape.
    ladder = measure_levers(bench, pipe, shapes, scale, args, dtype)

    # 3. Ours: all levers, warmed for every shape, then the same shapes (normal, fast).
    gen = VideoGenerator(fresh_pipe(pipe, clock), f"wan2.1-t2v-1.3b-random-{scale.name}",
                         device, False, speed=_speed(args))
    warm_started = time.perf_counter()
    gen.warm_up([_bucket(s) for s in shapes], guidance_scale=scale.guidance)
    warm_up_s = time.perf_counter() - warm_started
    for shape in shapes:
        row = rows[shape.label]
        ours = bench.measure(ours_call(gen, shape, steps, scale.guidance), shape, steps,
                             args.repeats)
        fast = bench.measure(ours_call(gen, shape, steps, scale.guidance, fast=True), shape,
                             steps, args.repeats)
        row["ours"], row["fast"] = ours.fields(), fast.fields()
        row["speedup_end_to_end"] = round(row["baseline"]["end_to_end_s"] / ours.end_to_end_s, 3)
        row["speedup_denoise"] = round(row["baseline"]["denoise_s"] / ours.denoise_s, 3)
        row["fast_speedup_end_to_end"] = round(ours.end_to_end_s / fast.end_to_end_s, 3)
        row["fast_speedup_denoise"] = round(ours.denoise_s / fast.denoise_s, 3)
        value = psnr(ours.frames, fast.frames)
        row["fast_psnr_db"] = None if value is None else round(value, 2)
        row["fast_identical"] = value is None
        row["overhead_share"] = round(
            (ours.text_encode_s + ours.vae_decode_s + ours.mp4_encode_s) / ours.denoise_s, 4)
        log(f"ours {shape.label}: {ours.end_to_end_s:.2f}s (x{row['speedup_end_to_end']}), "
            f"fast {fast.end_to_end_s:.2f}s")

    import diffusers
    import transformers

    return {
        "device": {
            "kind": "cuda" if cuda else "cpu", "name": name, "cpu_count": _cpus(),
            "peak_bf16_tflops": bench.peak,
            "cuda": torch.version.cuda if cuda else None,
        },
        "versions": {
            "python": platform.python_version(), "torch": torch.__version__,
            "diffusers": diffusers.__version__, "transformers": transformers.__version__,
        },
        "settings": {
            "scale": scale.name, "note": scale.note, "steps": steps, "guidance": scale.guidance,
            "repeats": args.repeats, "dtype": str(dtype).removeprefix("torch."),
            "vae_dtype": "float32", "text_tokens": TEXT_TOKENS, "prompt": PROMPT,
            "transformer": {k: list(v) if isinstance(v, tuple) else v
                            for k, v in scale.transformer.items()},
            "params": {
                "transformer": _count(transformer), "text_encoder": _count(pipe.text_encoder),
                "vae": _count(pipe.vae),
            },
            "baseline": "diffusers WanPipeline, library defaults: negative prompt encoded per "
                        "call, default attention (SDPA), no compile, no cache; model-card "
                        "dtypes (compute dtype above, VAE float32)",
            "ours": {"speed_options": asdict(_speed(args)), "levers": gen.levers},
            "fast": f"FirstBlockCache threshold {gen.speed.fast_threshold}; random weights: "
                    "the PSNR compares two noise clips and says nothing about real quality",
            "build_s": round(build_s, 2), "warm_up_s": round(warm_up_s, 2),
        },
        "levers": ladder,
        "shapes": rows,
    }


def measure_levers(bench: Bench, pipe: Any, shapes: list[Shape], scale: Scale,
                   args: argparse.Namespace, dtype: torch.dtype) -> dict[str, Any]:
    """Denoise s/step on the largest shape with one lever changed at a time."""
    shape = max(shapes, key=lambda s: tokens(s, (1, 2, 2)))
    steps = scale.ladder_steps
    out: dict[str, Any] = {"shape": shape.label, "steps": steps}

    def step_s(call: Callable[[], np.ndarray]) -> float:
        call()  # warm-up
        return round(bench.measure(call, shape, steps, 1).denoise_s_per_step, 5)

    clock = bench.clock
    base = fresh_pipe(pipe, clock)
    out["baseline_s_per_step"] = step_s(
        baseline_call(base, shape, steps, scale.guidance, bench.device))
    # The other dtype on a copy, so the shared weights stay bit-exact.
    other = torch.float32 if dtype == torch.bfloat16 else torch.bfloat16
    twin = fresh_pipe(pipe, clock, transformer=copy.deepcopy(pipe.transformer).to(other))
    out[f"{str(other).removeprefix('torch.')}_s_per_step"] = step_s(
        baseline_call(twin, shape, steps, scale.guidance, bench.device))
    del twin
    attention = _speed(args).attention
    eager = VideoGenerator(fresh_pipe(pipe, clock), "ladder", bench.device, False,
                           speed=SpeedOptions(attention=attention, compile="off",
                                              cudnn_benchmark="off"))
    out["attention"] = eager.levers["attention"]
    # Left set: ours (next) picks the same backend, and the baseline has already run.
    out["attention_s_per_step"] = step_s(ours_call(eager, shape, steps, scale.guidance))
    return out


def _speed(args: argparse.Namespace) -> SpeedOptions:
    return SpeedOptions(attention=args.attention, compile=args.compile)


def _bucket(shape: Shape) -> Any:
    from engine.buckets import Bucket

    return Bucket(width=shape.width, height=shape.height, num_frames=shape.frames, fps=FPS)


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _printer(quiet: bool) -> Callable[[str], None]:
    return (lambda _msg: None) if quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))


# --- output ---------------------------------------------------------------------------

COLUMNS = (
    ("shape", 14), ("run", 9), ("text s", 8), ("denoise s", 10), ("s/step", 8), ("decode s", 9),
    ("mp4 s", 7), ("e2e s", 8), ("peak GiB", 9), ("MFU", 6), ("speed-up", 9),
)


def table(result: dict[str, Any]) -> str:
    """The result as a Markdown table (also what docs/engine-speed.md shows)."""
    head = "| " + " | ".join(name for name, _ in COLUMNS) + " |"
    lines = [head, "|" + "|".join("---:" if i > 1 else "---" for i in range(len(COLUMNS))) + "|"]
    for label, row in result["shapes"].items():
        for run in ("baseline", "ours", "fast"):
            r = row[run]
            ratio = {"baseline": "1.00×", "ours": f"{row['speedup_end_to_end']:.2f}×",
                     "fast": f"{row['speedup_end_to_end'] * row['fast_speedup_end_to_end']:.2f}×"}
            cells = (
                label, run, _num(r["text_encode_s"]), _num(r["denoise_s"]),
                _num(r["denoise_s_per_step"]), _num(r["vae_decode_s"]), _num(r["mp4_encode_s"]),
                _num(r["end_to_end_s"]), _num(r["peak_gpu_mem_gb"], 1),
                "n/a" if r["mfu"] is None else f"{r['mfu']:.0%}", ratio[run],
            )
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def output_name(result: dict[str, Any]) -> str:
    device = result["device"]
    slug = "cpu" if device["kind"] == "cpu" else re.sub(r"[^a-z0-9]+", "-",
                                                       device["name"].lower()).strip("-")
    scaled = result["settings"]["scale"] != "full" and device["kind"] != "cpu"
    return f"engine-{slug}{'-cpu-scale' if scaled else ''}.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--device", help="cuda, cuda:1, cpu (default: cuda if available)")
    parser.add_argument("--steps", type=int, help="override the scale's step count")
    parser.add_argument("--repeats", type=int, default=1, help="median of N runs per shape")
    parser.add_argument("--shapes", nargs="*", help="only these labels, e.g. 832x480x81")
    parser.add_argument("--attention", default="auto", help="auto|sdpa|flash3|flash|sage|...")
    parser.add_argument("--compile", default="auto", choices=("auto", "on", "off"))
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--quiet", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    result = run_bench(args)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / output_name(result)
    path.write_text(json.dumps(result, indent=2) + "\n")
    if not args.quiet:
        print(table(result))
        print(f"levers on {result['levers']['shape']}: {result['levers']}")
        print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
