"""The models Weft knows how to run: what they are, where they live, their terms.

The domain's data (a project names models by these ids, and validation checks
them here), read by every layer above.

Pure data, no torch: the GUI imports this to fill model pickers, show download
sizes and licence warnings, and must start without loading an inference stack.

Adding a model is one `ModelSpec` in `_SPECS`; if its `family` is new, add a
tiny builder in `engines/models/tiny.py` so tests and the offline demo can run
it too. Models that ship with Weft (`shipped=True`: the sketch models) need no
twin: they are small, and every profile loads their real weights.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

# What a model makes, in the words node types use to pick a default model.
TEXT_TO_VIDEO = "text_to_video"
TEXT_TO_AUDIO = "text_to_audio"
# Video models whose main job is another: Weft also runs text-to-video models
# for image-to-video, restyling and extending where their weights can (see
# engines/video_models.py for which node uses which model how).
IMAGE_TO_VIDEO = "image_to_video"
VIDEO_EDITING = "video_editing"  # Wan VACE: references, masks, extension
# Sound-making models beyond plain text-to-audio (see engines/audio_models.py).
TEXT_TO_AUDIO_VIDEO = "text_to_audio_video"  # LTX-2: picture and sound from one model
TEXT_TO_MUSIC = "text_to_music"  # songs with lyrics

# The files of a diffusers-format repo: model_index.json and one folder per
# component. Several repos also carry the original, non-diffusers checkpoint at
# the top level (stable-audio-open-1.0 has a ~5 GB model.safetensors and a
# model.ckpt beside the diffusers folders); those are never loaded, so the
# download skips them. Patterns are fnmatch-style, where "*" also crosses "/".
DIFFUSERS_FILES = (
    "model_index.json",
    "*/*.json",
    "*/*.safetensors",
    "*/*.model",  # SentencePiece vocabularies (T5 / UMT5 tokenizers)
    "*/*.txt",  # merges / vocab files of BPE tokenizers
    "README.md",
    "LICENSE*",
)


class UnknownModelError(ValueError):
    """A model id that is not in the catalogue (a typo, or a project from a newer Weft)."""


@dataclass(frozen=True)
class ModelSpec:
    """One model an artist can pick.

    Sizes are estimates for planning (will it fit on this disk / this GPU),
    not guarantees. `vram_gb` is the peak with Weft's default memory settings
    for the model's typical resolution and length.
    """

    id: str  # stable: stored in project files, used as the folder name
    title: str  # what the artist sees
    family: str  # key of the tiny builder; models of one family share a twin
    task: str  # TEXT_TO_VIDEO, TEXT_TO_AUDIO, ...
    repo_id: str  # Hugging Face repo in diffusers format
    pipeline_class: str  # diffusers class the repo's model_index.json names
    download_gb: float
    vram_gb: float
    licence: str
    licence_url: str
    # True when the licence forbids commercial use outright.
    non_commercial: bool
    # The Hub asks the user to log in and accept the licence before downloading.
    gated: bool
    # When commercial use is allowed only under a condition, the condition in
    # plain words; empty when commercial use is unrestricted (or forbidden).
    commercial_limit: str = ""
    notes: str = ""
    # Components that stay float32 when the rest runs in bfloat16 on a GPU.
    keep_fp32: tuple[str, ...] = ()
    download_patterns: tuple[str, ...] = DIFFUSERS_FILES
    # Ships inside Weft as package data (engines/sketch/weights/<id>): always
    # installed, nothing to download, loaded from there in every profile.
    shipped: bool = False
    # The artist's own weights (`weft models add`, engines/models/user_models.py): the
    # catalogue model they run as, and either a whole diffusers folder or single files
    # by component ("transformer": path), the rest coming from the base's folder.
    base: str = ""
    user_folder: str = ""
    user_files: tuple[tuple[str, str], ...] = ()

    @property
    def registered(self) -> bool:
        """Whether these are the artist's own weights (registered with `weft models add`)."""
        return bool(self.base)

    @property
    def source_text(self) -> str:
        """Where the weights come from, in a few words."""
        if self.registered:
            return self.user_folder or ", ".join(path for _, path in self.user_files)
        return "ships with Weft" if self.shipped else self.repo_id

    def licence_warning(self) -> str:
        """What an artist must know before using the output commercially; "" when nothing."""
        if self.non_commercial:
            return f"{self.title}: {self.licence} forbids commercial use of the model and its output."
        if self.commercial_limit:
            return f"{self.title}: {self.licence}. {self.commercial_limit}"
        return ""


_SPECS = (
    ModelSpec(
        id="wan2.1-t2v-1.3b",
        title="Wan 2.1 Text to Video 1.3B",
        family="wan21_t2v",
        task=TEXT_TO_VIDEO,
        repo_id="Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        pipeline_class="WanPipeline",
        # Transformer 1.4B (~5.7 GB) + UMT5-XXL text encoder (~22.7 GB, stored
        # in float32 in the diffusers repo) + VAE (~0.5 GB).
        download_gb=29.0,
        # Wan's own figure for 81 frames at 480p with the text encoder and
        # transformer offloaded in turn; ~15 GB with everything resident.
        vram_gb=8.2,
        licence="Apache-2.0",
        licence_url="https://huggingface.co/Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        non_commercial=False,
        gated=False,
        notes=(
            "Default text-to-video model. Trained for 832x480 (or 480x832), 81 frames at "
            "16 fps. Width and height must be multiples of 16, frame count 4k+1."
        ),
        # Wan's authors run the VAE in float32: decoding in bfloat16 bands colours.
        keep_fp32=("vae",),
    ),
    ModelSpec(
        id="stable-audio-open-1.0",
        title="Stable Audio Open 1.0",
        family="stable_audio",
        task=TEXT_TO_AUDIO,
        repo_id="stabilityai/stable-audio-open-1.0",
        pipeline_class="StableAudioPipeline",
        # Diffusers folders only: DiT 1.06B (~4.2 GB), T5-base encoder
        # (~0.45 GB), Oobleck VAE (~0.6 GB).
        download_gb=5.3,
        vram_gb=6.0,
        licence="Stability AI Community License",
        licence_url="https://huggingface.co/stabilityai/stable-audio-open-1.0/blob/main/LICENSE.md",
        non_commercial=False,
        gated=True,
        commercial_limit=(
            "Free for research, non-commercial use, and commercial use by individuals or "
            "organisations with under US$1M in annual revenue; above that, commercial use "
            "needs an Enterprise licence from Stability AI (https://stability.ai/license). "
            "Check the licence on the model page before commercial work."
        ),
        notes=(
            "Default text-to-audio model: sound effects, ambiences, loops; weak at speech and "
            "vocals. 44.1 kHz stereo, up to 47.55 s per generation. Gated on Hugging Face: "
            "accept the licence on the model page and log in before downloading."
        ),
    ),
    # ---- video generation and editing (issue 3, video half) ----------------------
    ModelSpec(
        id="wan2.2-ti2v-5b",
        title="Wan 2.2 Text/Image to Video 5B",
        family="wan22_ti2v",
        task=TEXT_TO_VIDEO,
        repo_id="Wan-AI/Wan2.2-TI2V-5B-Diffusers",
        pipeline_class="WanPipeline",
        # Transformer 5B + UMT5-XXL + the 48-channel VAE (estimate).
        download_gb=34.0,
        # Wan's figure: 720p (1280x704, 121 frames) fits a 24 GB card with offloading.
        vram_gb=24.0,
        licence="Apache-2.0",
        licence_url="https://huggingface.co/Wan-AI/Wan2.2-TI2V-5B-Diffusers",
        non_commercial=False,
        gated=False,
        notes=(
            "One model for text-to-video and image-to-video (the first frame enters as a clean "
            "latent). Trained for 1280x704 at 24 fps, up to 121 frames; sizes are multiples of "
            "32, frame counts 4k+1. No last-frame control."
        ),
        keep_fp32=("vae",),
    ),
    ModelSpec(
        id="ltx-video-0.9.5",
        title="LTX-Video 0.9.5 (2B)",
        family="ltx_video",
        task=TEXT_TO_VIDEO,
        repo_id="Lightricks/LTX-Video-0.9.5",
        # The repo's model_index names LTXPipeline; Weft loads the same folders
        # as LTXConditionPipeline, which also does image, keyframe and video
        # conditions (the model card's own example does the same).
        pipeline_class="LTXConditionPipeline",
        # Transformer 2B + T5-XXL encoder + VAE (estimate).
        download_gb=26.0,
        vram_gb=12.0,
        licence="OpenRAIL-M",
        licence_url="https://huggingface.co/Lightricks/LTX-Video/blob/main/ltx-video-2b-v0.9.5.license.txt",
        non_commercial=False,
        gated=False,
        commercial_limit=(
            "Commercial use is allowed under OpenRAIL-M's use restrictions (no unlawful, "
            "harmful or deceptive uses; see the licence's attachment A)."
        ),
        notes=(
            "Fast: text-to-video, image-to-video, first and last keyframes, video-to-video and "
            "extension in one model. Trained around 768x512 at 24 fps; sizes are multiples of "
            "32, frame counts 8k+1 up to 257."
        ),
    ),
    ModelSpec(
        id="wan2.1-vace-1.3b",
        title="Wan 2.1 VACE 1.3B",
        family="wan21_vace",
        task=VIDEO_EDITING,
        repo_id="Wan-AI/Wan2.1-VACE-1.3B-diffusers",
        pipeline_class="WanVACEPipeline",
        # Wan 2.1 1.3B plus the VACE control blocks, UMT5-XXL in float32 (estimate).
        download_gb=30.0,
        vram_gb=10.0,
        licence="Apache-2.0",
        licence_url="https://huggingface.co/Wan-AI/Wan2.1-VACE-1.3B-diffusers",
        non_commercial=False,
        gated=False,
        notes=(
            "All-in-one video creation and editing: reference images of subjects, masked "
            "regeneration, extension, first frames. Trained at 832x480, 81 frames, 16 fps; "
            "sizes are multiples of 16, frame counts 4k+1."
        ),
        keep_fp32=("vae",),
    ),
    ModelSpec(
        id="wan2.1-vace-14b",
        title="Wan 2.1 VACE 14B",
        family="wan21_vace",
        task=VIDEO_EDITING,
        repo_id="Wan-AI/Wan2.1-VACE-14B-diffusers",
        pipeline_class="WanVACEPipeline",
        download_gb=75.0,
        # With the text encoder and transformer offloaded in turn; ~60 GB resident.
        vram_gb=40.0,
        licence="Apache-2.0",
        licence_url="https://huggingface.co/Wan-AI/Wan2.1-VACE-14B-diffusers",
        non_commercial=False,
        gated=False,
        notes="The large VACE: better identity and motion, for 48-80 GB GPUs. 480p or 720p, 16 fps.",
        keep_fp32=("vae",),
    ),
    ModelSpec(
        id="wan2.1-i2v-14b-480p",
        title="Wan 2.1 Image to Video 14B 480p",
        family="wan21_i2v",
        task=IMAGE_TO_VIDEO,
        repo_id="Wan-AI/Wan2.1-I2V-14B-480P-Diffusers",
        pipeline_class="WanImageToVideoPipeline",
        download_gb=80.0,
        vram_gb=40.0,
        licence="Apache-2.0",
        licence_url="https://huggingface.co/Wan-AI/Wan2.1-I2V-14B-480P-Diffusers",
        non_commercial=False,
        gated=False,
        notes="Image-to-video for large GPUs: 832x480, 81 frames, 16 fps. CLIP image encoder.",
        keep_fp32=("vae", "image_encoder"),
    ),
    ModelSpec(
        id="wan2.1-flf2v-14b-720p",
        title="Wan 2.1 First-Last Frame to Video 14B 720p",
        family="wan21_flf2v",
        task=IMAGE_TO_VIDEO,
        repo_id="Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers",
        pipeline_class="WanImageToVideoPipeline",
        download_gb=80.0,
        vram_gb=48.0,
        licence="Apache-2.0",
        licence_url="https://huggingface.co/Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers",
        non_commercial=False,
        gated=False,
        notes="A video from a first and a last frame, for large GPUs: 1280x720, 81 frames, 16 fps.",
        keep_fp32=("vae", "image_encoder"),
    ),
    ModelSpec(
        id="cogvideox-2b",
        title="CogVideoX 2B",
        family="cogvideox",
        task=TEXT_TO_VIDEO,
        repo_id="THUDM/CogVideoX-2b",
        pipeline_class="CogVideoXPipeline",
        # Transformer 1.7B + T5-v1.1-XXL encoder + VAE (estimate).
        download_gb=14.0,
        # With the text encoder and transformer offloaded in turn and VAE tiling.
        vram_gb=12.0,
        licence="Apache-2.0",
        licence_url="https://huggingface.co/THUDM/CogVideoX-2b",
        non_commercial=False,
        gated=False,
        notes=(
            "An older, smaller text-to-video model: 720x480 only, up to 49 frames (6 s) at 8 fps, frame "
            "counts 8k+1. Other sizes run but look worse. (CogVideoX 5B has its own, more restrictive licence: not listed.)"
        ),
    ),
    # ---- sound: text to audio beside Stable Audio, and LTX-2's picture with sound ----
    ModelSpec(
        id="longcat-audiodit-1b",
        title="LongCat-AudioDiT 1B",
        family="longcat_audio",
        task=TEXT_TO_AUDIO,
        repo_id="ruixiangma/LongCat-AudioDiT-1B-Diffusers",
        pipeline_class="LongCatAudioDiTPipeline",
        # Estimates: a ~1B DiT and a UMT5 text encoder in float32, and a small
        # waveform VAE.
        download_gb=6.0,
        vram_gb=6.0,
        licence="MIT",
        licence_url="https://huggingface.co/meituan-longcat/LongCat-AudioDiT-1B",
        non_commercial=False,
        gated=False,
        notes=(
            "Meituan's waveform-latent diffusion model, 24 kHz mono, up to 30 s per generation, 16 steps "
            "by default. Meituan publishes LongCat-AudioDiT as speech synthesis (the prompt is what is "
            "said); diffusers runs it as text to audio without a voice prompt. The diffusers-format repo is "
            "a community conversion of Meituan's MIT-licensed weights."
        ),
    ),
    ModelSpec(
        id="ltx-2-19b",
        title="LTX-2 19B (video with sound)",
        family="ltx2",
        task=TEXT_TO_AUDIO_VIDEO,
        repo_id="Lightricks/LTX-2",
        pipeline_class="LTX2Pipeline",
        # Estimates: the 19B audio-video transformer (~38 GB in bfloat16), the
        # Gemma 3 12B text encoder (~24 GB), the video and audio VAEs and the
        # vocoder (~2 GB).
        download_gb=65.0,
        # bfloat16 with every component resident; CPU offload of the text
        # encoder brings it nearer 40 GB.
        vram_gb=64.0,
        licence="LTX-2 Community License Agreement",
        licence_url="https://github.com/Lightricks/LTX-2/blob/main/LICENSE",
        non_commercial=False,
        gated=False,
        commercial_limit=(
            "Commercial use is free for individuals and entities with under US$10M in annual revenue; "
            "above that it needs a paid commercial licence from Lightricks (https://ltx.io/model/licensing). "
            "The licence also carries use restrictions that pass on to anyone you share the model or its "
            "output with, and the bundled Gemma 3 text encoder is under Google's Gemma Terms of Use."
        ),
        notes=(
            "Generates the picture and its sound together (24 kHz stereo). Width and height must be "
            "multiples of 32 and the frame count 8k+1 (121 frames = 5 s at 24 fps). For big GPUs only."
        ),
    ),
    ModelSpec(
        id="ace-step-1.5-xl-turbo",
        title="ACE-Step 1.5 XL Turbo (music with lyrics)",
        family="ace_step",
        task=TEXT_TO_MUSIC,
        repo_id="ACE-Step/acestep-v15-xl-turbo-diffusers",
        pipeline_class="AceStepPipeline",
        # Estimates: the XL DiT (hidden 2560), the Qwen3-Embedding-0.6B text
        # encoder and the Oobleck VAE; the weights are reported to be stored
        # in float32.
        download_gb=18.0,
        vram_gb=12.0,
        licence="Not stated in the weights repository",
        licence_url="https://huggingface.co/ACE-Step/acestep-v15-xl-turbo-diffusers",
        non_commercial=False,
        gated=False,
        commercial_limit=(
            "The ACE-Step 1.5 weight repositories carry no licence file (requests for one are open on the "
            "Hub); the ACE-Step code is open source. Confirm the terms with the ACE-Step authors before "
            "commercial use."
        ),
        notes=(
            "Songs from a style prompt and lyrics ([verse], [chorus] ... tags), 48 kHz stereo, 10 s to "
            "10 min. Turbo: guidance is distilled into the weights, 8 steps, no negative prompt."
        ),
    ),
)

# ---- the sketch models: toy models of a toy world, trained by us, shipped --------------
# Small diffusers models trained on the procedural sketch world (flat shapes that
# move on plain backgrounds, engines/sketch/world.py; simple sounds,
# engines/sketch/sounds.py). They are no substitute for the real models: they know
# only the words of their world. They let a fresh install render something
# recognisable offline, and the judges test generative features on them.


SKETCH_NOTICE = "toy model, shipped with Weft"

_SPECS += (
    ModelSpec(
        id="sketch-video",
        title="Sketch Video (toy model)",
        family="sketch_video",
        task=TEXT_TO_VIDEO,
        repo_id="",
        pipeline_class="WanPipeline",
        download_gb=0.0,  # the files' true size: `install`, from the manifest
        # float32 weights of a few million parameters and 80 latent tokens.
        vram_gb=0.1,
        licence="Apache-2.0",
        licence_url="https://www.apache.org/licenses/LICENSE-2.0",
        non_commercial=False,
        gated=False,
        notes=(
            "A toy model of a toy world, trained by the Weft authors and shipped with Weft: flat shapes "
            "(circle, square, triangle) in nine colours that move, grow or shrink on a plain background, "
            "64x64, 17 frames at 8 fps. It knows only the words of that world ('a red circle moves right on a "
            "blue background'). For real video, pull a real model (weft models pull wan2.1-t2v-1.3b)."
        ),
        shipped=True,
    ),
    ModelSpec(
        id="sketch-sound",
        title="Sketch Sound (toy model)",
        family="sketch_sound",
        task=TEXT_TO_AUDIO,
        repo_id="",
        pipeline_class="StableAudioPipeline",
        download_gb=0.0,
        vram_gb=0.1,
        licence="Apache-2.0",
        licence_url="https://www.apache.org/licenses/LICENSE-2.0",
        non_commercial=False,
        gated=False,
        notes=(
            "A toy model of a toy world, trained by the Weft authors and shipped with Weft: beeps, whistles, "
            "hums, noise and clicks, 1-4 s at 16 kHz. It knows only the words of that world ('three high "
            "beeps', 'a rising whistle'). For real sound, pull a real model "
            "(weft models pull stable-audio-open-1.0)."
        ),
        shipped=True,
    ),
)

# Weft's own models, then the artist's registered weights. Two facts about this
# machine are not the domain's to read: the shipped weights' sizes on disk and the
# artist's registry file. The runtime hands them over with `install`
# (engines/models/user_models.py does it when engines.models is first imported, and
# again after `weft models add` / `remove`); until then the catalogue holds the
# built-in models, which is all validation of a project needs.
BUILTIN: Mapping[str, ModelSpec] = MappingProxyType({spec.id: spec for spec in _SPECS})
_ALL: dict[str, ModelSpec] = dict(BUILTIN)
CATALOGUE: Mapping[str, ModelSpec] = MappingProxyType(_ALL)


def install(registered: Iterable[ModelSpec] = (), shipped_bytes: Mapping[str, int] | None = None) -> None:
    """Set this machine's facts: the artist's registered models (replacing any earlier
    ones) and the shipped models' sizes. The ``CATALOGUE`` object stays the same."""
    sizes = shipped_bytes or {}
    _ALL.clear()
    for spec in BUILTIN.values():
        if spec.shipped and spec.id in sizes:
            spec = replace(spec, download_gb=sizes[spec.id] / 1e9)
        _ALL[spec.id] = spec
    _ALL.update({spec.id: spec for spec in registered if spec.id not in BUILTIN})

# The model a new node of each task starts with.
DEFAULT_MODELS: Mapping[str, str] = MappingProxyType(
    {
        TEXT_TO_VIDEO: "wan2.1-t2v-1.3b",
        TEXT_TO_AUDIO: "stable-audio-open-1.0",
        VIDEO_EDITING: "wan2.1-vace-1.3b",
        IMAGE_TO_VIDEO: "wan2.1-i2v-14b-480p",
    }
)


def get_spec(model_id: str) -> ModelSpec:
    """The catalogue entry for `model_id`; `UnknownModelError` names the known ids."""
    try:
        return CATALOGUE[model_id]
    except (KeyError, TypeError):
        known = ", ".join(sorted(CATALOGUE))
        raise UnknownModelError(f"Unknown model {model_id!r}. Known models: {known}.") from None


def size_text(gb: float) -> str:
    """A download or disk size in the unit that reads best: "29 GB", "5.3 GB", "6.2 MB"."""
    if gb >= 10:
        return f"{gb:.0f} GB"
    if gb >= 1:
        return f"{gb:.1f} GB"
    return f"{gb * 1000:.1f} MB"


def models_for(task: str) -> list[ModelSpec]:
    """Every model that performs `task`, default first."""
    default = DEFAULT_MODELS.get(task)
    specs = [spec for spec in CATALOGUE.values() if spec.task == task]
    return sorted(specs, key=lambda spec: (spec.id != default, spec.title))
