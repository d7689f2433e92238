"""The preview model: a tiny, randomly initialised Wan 2.1 text-to-video pipeline.

It uses the real diffusers/transformers classes and is saved and loaded exactly like a
downloaded model, so the whole engine path runs on CPU without weights or a network.
Its output is coloured noise; the marker file lets every reply say so.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch-heavy imports stay lazy at run time
    from diffusers import WanPipeline
    from transformers import PreTrainedTokenizerFast

PREVIEW_VERSION = 1  # bump when the architecture below changes: the folder name carries it
MARKER = "clipbot_preview.json"
TEXT_DIM = 32
MAX_TOKENS = 512  # Wan's default max_sequence_length

_SPECIALS = ("<pad>", "</s>", "<unk>")  # ids 0, 1, 2 as in T5
_WORDS = (
    "a", "an", "the", "of", "in", "on", "at", "with", "and", "to", "from", "by", "for", "over",
    "under", "near", "into", "is", "are", "man", "woman", "child", "dog", "cat", "bird", "horse",
    "fish", "tree", "flower", "sea", "sky", "sun", "moon", "city", "street", "car", "boat",
    "train", "window", "bread", "bakery", "cake", "coffee", "rain", "snow", "fire", "smoke",
    "steam", "light", "night", "morning", "sunrise", "sunset", "red", "blue", "green", "yellow",
    "white", "black", "golden", "slow", "fast", "walking", "running", "flying", "dancing",
    "rising", "falling", "camera", "close", "up", "wide", "shot", "video", "low", "quality",
    "blurry", "static", "worst", "ugly", "deformed", "distorted", "watermark", "text",
)


def preview_dir(cache_dir: Path) -> Path:
    return cache_dir / f"preview-wan-v{PREVIEW_VERSION}"


def ensure_preview_model(cache_dir: Path) -> Path:
    """The preview model folder under ``cache_dir``, built first if it is missing."""
    target = preview_dir(cache_dir)
    if (target / MARKER).is_file():
        return target
    return build_preview_model(target)


def build_preview_model(target: Path) -> Path:
    """Save a fresh preview pipeline at ``target`` (a second builder racing us is harmless).

    The pipeline is written to a hidden sibling folder and renamed into place, so a reader
    never sees a half-written model and two processes building at once both succeed.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        pipe = _build_pipeline()
        pipe.save_pretrained(staging)  # type: ignore[attr-defined]  # on DiffusionPipeline
        marker = {"version": PREVIEW_VERSION, "note": "random weights: output is noise"}
        (staging / MARKER).write_text(json.dumps(marker) + "\n")
        try:
            os.rename(staging, target)
        except OSError:
            # Someone else finished first; theirs is as good as ours.
            if not (target / MARKER).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _build_pipeline() -> WanPipeline:
    import torch
    from diffusers import (
        AutoencoderKLWan,
        UniPCMultistepScheduler,
        WanPipeline,
        WanTransformer3DModel,
    )
    from transformers import UMT5Config, UMT5EncoderModel

    tokenizer = build_tokenizer()
    torch.manual_seed(0)
    # Sizes follow diffusers' own Wan tests; the scale factors (8× space, 4× time) and the
    # 16 latent channels match the real model, so the same buckets and frame counts apply.
    vae = AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )
    torch.manual_seed(0)
    text_encoder = UMT5EncoderModel(UMT5Config(
        vocab_size=len(tokenizer), d_model=TEXT_DIM, d_kv=8, d_ff=64, num_layers=2,
        num_heads=4, relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1,
        decoder_start_token_id=0,
    ))
    torch.manual_seed(0)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16,
        out_channels=16, text_dim=TEXT_DIM, freq_dim=256, ffn_dim=32, num_layers=2,
        cross_attn_norm=True, qk_norm="rms_norm_across_heads", rope_max_seq_len=1024,
    )
    # The scheduler the published Wan 2.1 Diffusers checkpoints ship with.
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, num_train_timesteps=1000,
        flow_shift=3.0,
    )
    return WanPipeline(
        tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=scheduler,
        transformer=transformer,
    )


def build_tokenizer() -> PreTrainedTokenizerFast:
    """A T5-style Unigram tokenizer over a few hundred pieces, with byte fallback.

    Byte fallback means any script (users write in many languages) maps to known ids.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    pieces: list[tuple[str, float]] = [(s, 0.0) for s in _SPECIALS]
    pieces += [(f"<0x{b:02X}>", -20.0) for b in range(256)]
    pieces += [(f"▁{w}", -2.0) for w in _WORDS]
    pieces += [(c, -8.0) for c in "abcdefghijklmnopqrstuvwxyz0123456789▁"]
    pieces += [(f"▁{c}", -7.0) for c in "abcdefghijklmnopqrstuvwxyz"]
    unique: dict[str, float] = {}
    for piece, score in pieces:  # "▁a" is both a word and a letter: keep the first
        unique.setdefault(piece, score)
    model = models.Unigram(list(unique.items()), unk_id=2, byte_fallback=True)
    tok = Tokenizer(model)
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace()])
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
        model_max_length=MAX_TOKENS,
    )
