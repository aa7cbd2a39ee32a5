"""Generative nodes: text to video, text to audio."""

from __future__ import annotations

from typing import Any

from nodes import types as T
from nodes.catalogue.model_node import ModelNode
from nodes.definition import Input, Output, Param, RunContext


def models_for(task: str) -> tuple[str, ...]:
    """Model ids of the catalogue that do ``task`` (imported lazily: pure data, no torch)."""
    from engines.models.catalogue import CATALOGUE
    return tuple(spec.id for spec in CATALOGUE.values() if spec.task == task)


WAN_NEGATIVE = ("blurry, low quality, still frame, worst quality, jpeg artifacts, deformed, "
                "extra fingers, bad hands, bad anatomy, watermark, subtitles, text")


class TextToVideo(ModelNode):
    type_id = "text_to_video"
    title = "Text to Video"
    description = "A video generated from a prompt."
    tags = ("t2v", "generate", "wan", "diffusion")

    prompt = Input(T.TEXT, help="What the video shows: subject, action, setting, camera, style.")
    video = Output(T.VIDEO)

    model = Param.choice("wan2.1-t2v-1.3b", lambda: models_for("text_to_video"),
                         help="The video model. Bigger models look better and need more GPU memory.")
    width = Param.int(832, min=32, max=1920, step=16, help="Width in pixels (a multiple of 16).")
    height = Param.int(480, min=32, max=1920, step=16, help="Height in pixels (a multiple of 16).")
    frames = Param.int(81, min=5, max=257, step=4,
                       help="Number of frames; Wan needs 4k+1 (17, 33, 49, 81...). 81 frames at 16 fps is 5 s.")
    fps = Param.float(16.0, min=1.0, max=60.0, help="Frames per second of the result. Wan 2.1 is trained at 16.")
    steps = Param.int(30, min=1, max=200, help="Denoising steps: more is slower and usually cleaner.")
    guidance = Param.float(5.0, min=1.0, max=20.0, step=0.5,
                           help="How strongly the video follows the prompt (classifier-free guidance). "
                                "1 turns guidance off and halves the work.")
    seed = Param.seed(0)
    negative_prompt = Param.text(WAN_NEGATIVE, multiline=True,
                                 help="What the video should avoid. Ignored when guidance is 1.")

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[tuple[str, str]]:
        problems = []
        for name in ("width", "height"):
            value = params[name]
            if value % 16:
                lower, upper = value - value % 16, value - value % 16 + 16
                problems.append((name, f"{value} is not a multiple of 16; use {lower} or {upper}"))
        frames = params["frames"]
        if (frames - 1) % 4:
            lower = frames - (frames - 1) % 4
            problems.append(("frames", f"{frames} is not of the form 4k+1; use {lower} or {lower + 4}"))
        return problems

    def run(self, ctx: RunContext, *, prompt: str, model: str, width: int, height: int, frames: int, fps: float,
            steps: int, guidance: float, seed: int, negative_prompt: str, **_: Any) -> dict[str, Any]:
        from engines.diffusion import generate_video
        from nodes.values import Video
        pixels = generate_video(ctx, model, prompt=prompt, negative_prompt=negative_prompt, width=width,
                                height=height, num_frames=frames, steps=steps, guidance=guidance, seed=seed)
        return {"video": Video(pixels, fps)}


class TextToAudio(ModelNode):
    type_id = "text_to_audio"
    title = "Text to Audio"
    description = "Sound generated from a prompt: effects, ambience, music."
    tags = ("t2a", "sound", "generate", "stable audio", "music", "sfx")

    prompt = Input(T.TEXT, help="What it sounds like: the source, the place, the mood, the tempo.")
    audio = Output(T.AUDIO)

    model = Param.choice("stable-audio-open-1.0", lambda: models_for("text_to_audio"),
                         help="The audio model. Stable Audio Open: effects, ambience and loops, 44.1 kHz stereo, "
                              "up to 47 s. LongCat-AudioDiT 1B: 24 kHz mono, up to 30 s, about 16 steps.")
    seconds = Param.float(5.0, min=0.5, max=47.0, step=0.5,
                          help="Length of the sound in seconds; the result is exactly this long.")
    steps = Param.int(100, min=1, max=500, help="Denoising steps: more is slower and usually cleaner.")
    guidance = Param.float(7.0, min=1.0, max=20.0, step=0.5, help="How strongly the sound follows the prompt.")
    seed = Param.seed(0)
    negative_prompt = Param.text("low quality, distorted", multiline=True, help="What the sound should avoid.")

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[tuple[str, str]]:
        from engines.audio_models import check_length
        problem = check_length(params["model"], params["seconds"], "asked for")
        return [("seconds", problem)] if problem else []

    def run(self, ctx: RunContext, *, prompt: str, model: str, seconds: float, steps: int, guidance: float,
            seed: int, negative_prompt: str, **_: Any) -> dict[str, Any]:
        # One call for every audio model (Stable Audio, LongCat, ...): engines/audio_models.py.
        from engines.audio_models import generate_sound
        return {"audio": generate_sound(ctx, model, prompt=prompt, negative_prompt=negative_prompt,
                                        seconds=seconds, steps=steps, guidance=guidance, seed=seed)}
