"""The engine speed bench runs end to end on its CPU-scaled config, and fast mode works."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from bench.engine import CPU, FULL, Shape, forward_flops, main, peak_tflops, psnr, tokens
from engine.buckets import resolve_bucket
from engine.pipeline import DEFAULT_NEGATIVE_PROMPT, GenerationSpec, VideoGenerator

pytestmark = pytest.mark.slow

RUN_FIELDS = {
    "text_encode_s", "denoise_s", "denoise_s_per_step", "vae_decode_s", "mp4_encode_s",
    "end_to_end_s", "peak_gpu_mem_gb", "denoise_tflops", "mfu",
}
GPU_ONLY = {"peak_gpu_mem_gb", "mfu"}  # null on CPU: no GPU memory, no known peak


def test_cpu_bench_writes_every_field(tmp_path: Path) -> None:
    path = main(["--scale", "cpu", "--device", "cpu", "--out", str(tmp_path), "--quiet"])
    assert path == tmp_path / "engine-cpu.json"
    result = json.loads(path.read_text())
    assert result["device"]["kind"] == "cpu" and result["device"]["name"]
    assert {"torch", "diffusers", "transformers"} <= result["versions"].keys()
    settings = result["settings"]
    assert settings["scale"] == "cpu" and "nothing about GPU" in settings["note"]
    assert set(result["shapes"]) == {s.label for s in CPU.shapes}
    for label, row in result["shapes"].items():
        for run in ("baseline", "ours", "fast"):
            assert set(row[run]) == RUN_FIELDS, (label, run)
            for name, value in row[run].items():
                if name in GPU_ONLY:
                    assert value is None, (label, run, name)
                else:
                    assert value > 0, (label, run, name)
        for ratio in ("speedup_end_to_end", "speedup_denoise", "fast_speedup_end_to_end",
                      "fast_speedup_denoise", "overhead_share"):
            assert row[ratio] > 0, (label, ratio)
        assert row["fast_identical"] == (row["fast_psnr_db"] is None)
    levers = result["levers"]
    assert levers["baseline_s_per_step"] > 0 and levers["bfloat16_s_per_step"] > 0
    assert levers["attention"] == "native" and levers["attention_s_per_step"] > 0


def test_flop_count_matches_the_published_ideal() -> None:
    # 480×832×81: 21 latent frames of 30×52 patches; the ideal is ≈ 29 s at 989 TFLOPS.
    assert tokens(Shape(832, 480, 81), (1, 2, 2)) == 21 * 30 * 52
    from accelerate import init_empty_weights
    from diffusers import WanTransformer3DModel

    with init_empty_weights():
        model = WanTransformer3DModel(**FULL.transformer)
    per_step = forward_flops(model, 21 * 30 * 52, 512) * 2  # both CFG branches
    assert 28.0 < per_step * 50 / 989e12 < 30.0
    assert peak_tflops("NVIDIA H100 80GB HBM3") == 989.0
    assert peak_tflops("NVIDIA H100 PCIe") == 756.0
    assert peak_tflops("NVIDIA A100-SXM4-80GB") == 312.0
    assert peak_tflops("Tesla T4") is None


def test_psnr() -> None:
    a = np.zeros((2, 4, 4, 3), np.uint8)
    b = a.copy()
    assert psnr(a, b) is None
    b[0, 0, 0, 0] = 255
    assert math.isclose(psnr(a, b), 10 * math.log10(96), rel_tol=1e-9)


def test_fast_mode_on_the_preview_generator(preview_generator: VideoGenerator) -> None:
    bucket = resolve_bucket("16:9", 1, "preview")

    def spec(fast: bool) -> GenerationSpec:
        return GenerationSpec(
            prompt="a cat on a boat", negative_prompt=DEFAULT_NEGATIVE_PROMPT,
            width=bucket.width, height=bucket.height, num_frames=bucket.num_frames, steps=2,
            guidance_scale=5.0, seed=3, fast=fast,
        )

    normal = preview_generator.generate(spec(False))
    fast = preview_generator.generate(spec(True))
    assert fast.shape == normal.shape == (bucket.num_frames, bucket.height, bucket.width, 3)
    assert fast.dtype == np.uint8
    # The cache hooks are gone afterwards: a normal request is exactly reproducible.
    transformer = preview_generator.pipe.transformer
    assert not transformer.is_cache_enabled
    assert np.array_equal(preview_generator.generate(spec(False)), normal)
