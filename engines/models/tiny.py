"""Tiny twins: every model family rebuilt with random weights, offline.

A tiny twin is the same diffusers pipeline class, with the same components,
schedulers and compression ratios as the real checkpoint, shrunk until it runs
in seconds on a laptop CPU. Tests, CI and the offline demo save a twin to disk
and load it back through the very `from_pretrained` path that loads the real
weights, so the loading, shapes, durations and callbacks they exercise are the
real ones. Nothing is fetched from the Hub: configs are written out here and
the tokenizers are trained on a few sentences.

The weights are random, so what a twin renders is noise. Each saved folder
carries a README saying so, and callers should say so wherever a user sees it.

A built twin is a cache: `ensure_built` builds one where none is, or where the
one there came from an older builder, safely with several processes at once.

Adding a family: write `_build_<family>()` that returns an unsaved pipeline,
decorate it with `@_family("<key>", version=1)`, in this module or in a
sibling module named `tiny_<something>.py` (found and imported on first use),
and point a `ModelSpec.family` at the key. Bump a family's version whenever
its builder changes: folders stamped with an older version are rebuilt, not
loaded. Sibling modules import only this module at the top (torch and
diffusers inside the builders), so asking which twins exist stays cheap.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engines.models.folders import is_complete_pipeline

# torch, diffusers and transformers are imported inside the builders: the
# manager asks this module which twins exist without loading an inference stack.

_Builder = Callable[[], Any]
_BUILDERS: dict[str, _Builder] = {}
# family -> version of its builder, stamped into every folder it builds.
TINY_VERSION: dict[str, int] = {}
# The stamp's file name inside a tiny folder.
TINY_STAMP = "weft_tiny.json"

# Sentences the tokenizers learn from. The vocabulary only has to split prompts
# into several distinct tokens (so different prompts give different embeddings,
# and an empty prompt still yields an end-of-sequence token, never an all-masked
# row); the words are the kind artists type.
_CORPUS = [
    "a red fox runs through fresh snow at dawn, cinematic, slow motion",
    "a hammer hitting a wooden surface in a quiet workshop",
    "ocean waves crash on black volcanic rocks under a grey sky",
    "a dancer spins in a neon lit street at night, rain, reflections",
    "city traffic ambience with distant sirens and footsteps",
    "a cat walks on a piano, playful melody, warm room tone",
    "drone shot over green hills and a winding river, golden hour",
    "techno beat 128 bpm with deep bass and crisp hi hats",
    "a paper boat floats down a gutter after the storm",
    "close up of hands shaping clay on a spinning wheel",
    "birds singing in a forest, wind in the leaves, morning",
    "low quality, blurry, distorted, static, worst quality, noise",
]

# What users see if they open a tiny folder by hand.
_README = """\
Tiny twin of {family} built by Weft with RANDOM weights.

This folder has the same pipeline class and component layout as the real
model, shrunk to run in seconds on a CPU. It is for tests and the offline demo:
everything it renders is noise. Fetch the real model with `weft models pull`.
"""


def _family(name: str, *, version: int) -> Callable[[_Builder], _Builder]:
    def register(builder: _Builder) -> _Builder:
        _BUILDERS[name] = builder
        TINY_VERSION[name] = version
        return builder

    return register


_siblings_loaded = False


def _load_sibling_builders() -> None:
    """Import the `tiny_*` modules beside this one so their builders register."""
    global _siblings_loaded
    if _siblings_loaded:
        return
    import importlib
    import pkgutil

    package = __name__.rpartition(".")[0]
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module.name.startswith("tiny_"):
            importlib.import_module(f"{package}.{module.name}")
    _siblings_loaded = True


def tiny_families() -> list[str]:
    """The family keys `build_tiny` knows, sorted."""
    _load_sibling_builders()
    return sorted(_BUILDERS)


def family_version(family: str) -> int | None:
    """The current builder version of `family` (None if no builder)."""
    _load_sibling_builders()
    return TINY_VERSION.get(family)


def build_tiny(family: str, folder: Path) -> Path:
    """Build the tiny twin of `family` with random weights and save it to `folder`.

    The result loads with `DiffusionPipeline.from_pretrained(folder)` like any
    real checkpoint. Building is deterministic: the same family always gives
    the same weights, so renders are reproducible across machines.
    """
    _load_sibling_builders()
    try:
        builder = _BUILDERS[family]
    except KeyError:
        raise ValueError(
            f"No tiny twin for model family {family!r}; known families: {', '.join(tiny_families())}"
        ) from None
    folder = Path(folder)
    pipe = builder()
    folder.mkdir(parents=True, exist_ok=True)
    # safe_serialization is the default; spelled out because the real
    # checkpoints are safetensors and the twins must take the same path.
    pipe.save_pretrained(folder, safe_serialization=True)
    (folder / "README.txt").write_text(_README.format(family=family), encoding="utf-8")
    stamp = {"family": family, "version": TINY_VERSION[family], "random_weights": True}
    (folder / TINY_STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    return folder


def is_current(folder: Path, family: str) -> bool:
    """A complete twin stamped by the current builder of `family`.

    Twins from an older builder are stale: rebuilding costs seconds, while
    loading one could fail on, or silently differ from, what tests expect.
    """
    try:
        stamp = json.loads((folder / TINY_STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    version = family_version(family)
    current = version is not None and stamp.get("family") == family and stamp.get("version") == version
    return current and is_complete_pipeline(folder)


def ensure_built(family: str, target: Path) -> Path:
    """Build the twin of `family` at `target` unless a current one is there.

    Safe with several processes (the GUI's worker and a CLI render, or
    parallel test runs): builders wait on a file lock, build in a private
    temporary folder beside the target and move it into place in one rename,
    so a reader never sees half a pipeline.
    """
    if is_current(target, family):
        return target
    from filelock import FileLock

    from engines.models.quiet import quiet_libraries

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target.parent / f".{target.name}.lock")):
        if is_current(target, family):  # another process built it meanwhile
            return target
        quiet_libraries()
        building = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            build_tiny(family, building)
            if target.exists():  # stale twin from an older builder
                shutil.rmtree(target)
            os.replace(building, target)
        finally:
            shutil.rmtree(building, ignore_errors=True)
    return target


def _t5_tokenizer(model_max_length: int):
    """A T5 (SentencePiece-unigram) tokenizer made offline from `_CORPUS`.

    The real Wan and Stable Audio checkpoints both ship a T5TokenizerFast,
    which transformers 5 loads as T5Tokenizer; so does the twin. The
    vocabulary is written out rather than trained: the unigram trainer's
    scores vary in the last bits from run to run, and a twin must be the same
    bytes on every build. Each corpus word is one piece; single characters
    (scored lower, so whole words win) spell any other ASCII word instead of
    collapsing it to <unk>. `model_max_length` must be set: Stable Audio pads
    every prompt to it, Wan truncates to it.
    """
    import re
    import string

    from transformers import T5TokenizerFast

    words = sorted({word for line in _CORPUS for word in re.findall(r"[a-z0-9]+", line)})
    characters = string.ascii_letters + string.digits + string.punctuation
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]  # U+2581: word start
    vocab += [(f"\u2581{word}", -5.0) for word in words]
    vocab += [(character, -10.0) for character in characters]
    # extra_ids=0: T5's 100 sentinel tokens are for span-corruption training.
    return T5TokenizerFast(vocab=vocab, extra_ids=0, model_max_length=model_max_length)


# Sibling builder modules import it by this name.
_train_t5_tokenizer = _t5_tokenizer


@_family("wan21_t2v", version=1)
def _build_wan21_t2v():
    """Wan 2.1 text-to-video, as in Wan-AI/Wan2.1-T2V-1.3B-Diffusers.

    Kept from the real model (so sizes, frame counts and schedules behave the
    same): the 8x spatial / 4x temporal VAE with 16 latent channels and its
    latent statistics, the (1, 2, 2) patch, the UniPC flow scheduler with shift
    3.0, UMT5 text encoding to 512 tokens. Shrunk: every width and depth.
    """
    import torch
    from diffusers import (
        AutoencoderKLWan,
        UniPCMultistepScheduler,
        WanPipeline,
        WanTransformer3DModel,
    )
    from transformers import UMT5Config, UMT5EncoderModel

    tokenizer = _t5_tokenizer(model_max_length=512)
    text_dim = 32

    torch.manual_seed(0)
    text_encoder = UMT5EncoderModel(
        UMT5Config(
            vocab_size=len(tokenizer),
            d_model=text_dim,
            d_kv=8,
            d_ff=64,
            num_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
        )
    ).eval()  # eval: T5 dropout would otherwise make renders non-deterministic

    # Speed at artist-sized frames is set by the VAE decoder working at full
    # resolution: measured on 2 CPU cores, wider channels are slower (with so
    # few channels PyTorch picks its plain conv3d, and more channels only add
    # work), and dropping the extra residual block saved about a third.
    torch.manual_seed(0)
    vae = AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],  # four levels: the real 8x spatial compression
        num_res_blocks=0,
        temperal_downsample=[False, True, True],  # the real 4x temporal compression
    )

    torch.manual_seed(0)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        # One head: at 832x480x81 (32760 tokens) attention is the whole cost of
        # a step, and each head doubles it (3.7 s a step with one, 7.2 with two).
        num_attention_heads=1,
        attention_head_dim=12,  # divisible by 6: rotary dims split over t, h, w
        in_channels=16,
        out_channels=16,
        text_dim=text_dim,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        # The real value. The rotary table is sliced per axis, so it must be at
        # least the patch grid's longest side (52 at 832x480, 80 at 1280x720).
        rope_max_seq_len=1024,
    )

    # The scheduler the real repo ships (scheduler/scheduler_config.json).
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction",
        use_flow_sigmas=True,
        flow_shift=3.0,
        num_train_timesteps=1000,
        solver_order=2,
        solver_type="bh2",
        final_sigmas_type="zero",
        lower_order_final=True,
    )

    return WanPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae,
        scheduler=scheduler,
        transformer=transformer,
    )


def _stable_audio_scheduler():
    """The scheduler stable-audio-open-1.0 ships, or its torchsde-free sibling.

    The real checkpoint uses CosineDPMSolverMultistepScheduler, whose SDE noise
    comes from torchsde; without torchsde that class cannot even be loaded, so
    a twin saved with it would be unloadable. EDMDPMSolverMultistepScheduler
    takes the same sigma settings and needs nothing extra.
    """
    try:
        import torchsde  # noqa: F401

        from diffusers import CosineDPMSolverMultistepScheduler as Scheduler
    except ImportError:
        from diffusers import EDMDPMSolverMultistepScheduler as Scheduler

    return Scheduler(
        sigma_min=0.3,
        sigma_max=500.0,
        sigma_data=1.0,
        sigma_schedule="exponential",
        solver_order=2,
        prediction_type="v_prediction",
        final_sigmas_type="zero",
    )


@_family("stable_audio", version=1)
def _build_stable_audio():
    """Stable Audio Open 1.0, as in stabilityai/stable-audio-open-1.0.

    Kept from the real model: 44.1 kHz stereo, the Oobleck VAE's five strides
    [2, 4, 4, 8, 8] (hop 2048 samples) and the DiT's 1024-latent window, so the
    twin renders any duration the real model can, up to 47.55 s, exactly as
    long as asked; the sigma schedule; T5 prompt encoding.

    Shrunk: every width and depth. The pipeline always denoises and decodes the
    whole 47.55 s window and then crops it, so every call costs the same
    whatever the duration, and almost all of it is the decoder running at
    44.1 kHz. Its channels are therefore as thin as they go: with 4 channels
    and the usual doubling per level a call took about 2 s on 2 CPU cores,
    with the widths below about 1.2 s.
    """
    import torch
    from diffusers import AutoencoderOobleck, StableAudioDiTModel, StableAudioPipeline
    from diffusers.pipelines.stable_audio import StableAudioProjectionModel
    from transformers import T5Config, T5EncoderModel

    tokenizer = _t5_tokenizer(model_max_length=128)
    text_dim = 32
    conditioning_dim = 16  # must equal the DiT's cross_attention_input_dim
    latent_channels = 4

    torch.manual_seed(0)
    text_encoder = T5EncoderModel(
        T5Config(
            vocab_size=len(tokenizer),
            d_model=text_dim,
            d_kv=8,
            d_ff=64,
            num_layers=2,
            num_decoder_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
        )
    ).eval()

    torch.manual_seed(0)
    projection_model = StableAudioProjectionModel(
        text_encoder_dim=text_dim,
        conditioning_dim=conditioning_dim,
        min_value=0,
        max_value=512,  # the real model's bound on audio_end_in_s
    )

    torch.manual_seed(0)
    vae = AutoencoderOobleck(
        encoder_hidden_size=2 * latent_channels,  # encoder emits mean and scale
        downsampling_ratios=[2, 4, 4, 8, 8],
        channel_multiples=[1, 1, 1, 2, 2],
        decoder_channels=2,
        decoder_input_channels=latent_channels,
        audio_channels=2,
        sampling_rate=44100,
    )

    torch.manual_seed(0)
    transformer = StableAudioDiTModel(
        sample_size=1024,  # 1024 latents x 2048 / 44100 Hz = 47.55 s, as the real model
        in_channels=latent_channels,
        num_layers=2,
        attention_head_dim=8,
        num_attention_heads=2,
        num_key_value_attention_heads=1,
        out_channels=latent_channels,
        cross_attention_dim=16,
        time_proj_dim=16,
        global_states_input_dim=2 * conditioning_dim,  # start and end seconds
        cross_attention_input_dim=conditioning_dim,
    )

    return StableAudioPipeline(
        vae=vae,
        text_encoder=text_encoder,
        projection_model=projection_model,
        tokenizer=tokenizer,
        transformer=transformer,
        scheduler=_stable_audio_scheduler(),
    )

from engines.models import tiny_video as _tiny_video  # noqa: E402,F401  (registers the video families)
from engines.models import tiny_audio as _tiny_audio  # noqa: E402,F401  (registers the sound families)
