"""Generative nodes: text to video, text to audio."""

from __future__ import annotations

from typing import Any

from nodes import types as T
from nodes.catalogue.model_node import ModelNode
from nodes.definition import Input, Output, Param, RunContext


def models_for(task: str) -> tuple[str, ...]:
    """Model ids of the catalogue that do ``task`` (imported lazily: pure data, no torch)."""
    from nodes.model_catalogue import CATALOGUE
    return tuple(spec.id for spec in CATALOGUE.values() if spec.task == task)


from nodes.catalogue._video import WAN_NEGATIVE  # noqa: E402  (one definition for every video node)
from nodes.catalogue import _video as V  # noqa: E402


class TextToVideo(ModelNode):
    """A video from a prompt, on Wan 2.1 T2V 1.3B (default), Wan 2.2 TI2V 5B, LTX-Video 0.9.5 or CogVideoX 2B.

    Size: an aspect preset and a resolution preset give a width and height
    snapped to the model's grid (multiples of 16 for Wan 2.1, 32 for Wan 2.2
    5B and LTX); 'custom' uses width and height as typed and validation names
    the nearest valid values. Length: seconds (rounded to the nearest frame
    count the model makes: 4k+1 for Wan, 8k+1 for LTX and CogVideoX) or an
    exact frame count.

    After the model (docs/acceleration.md): fps on Wan, CogVideoX and Sketch
    Video, stamped on the cached clip, so changing only it does not generate
    again; on LTX-Video the frame rate conditions the model and re-runs it.
    """

    type_id = "text_to_video"
    title = "Text to Video"
    description = ("A video generated from a prompt. Wan 2.1 1.3B by default; Wan 2.2 5B and LTX-Video "
                   "are options. Presets snap the size and length to what the model accepts.")
    tags = ("t2v", "generate", "wan", "ltx", "diffusion")

    # After the model: fps on Wan, CogVideoX and Sketch Video (stamped on the frames; changing it
    # re-uses the cached clip). LTX-Video conditions on its frame rate: there it re-runs the model.
    fps_after_model = True

    prompt = Input(T.TEXT, help="What the video shows: subject, action, setting, camera, style.")
    video = Output(T.VIDEO, help="The generated clip at the size, length and frame rate set below.")

    model = V.model_param("wan2.1-t2v-1.3b", "text_to_video", help=(
        "The video model. Wan 2.1 1.3B: 480p, 16 fps, about 8 GB of GPU memory. Wan 2.2 5B: up to 720p at "
        "24 fps, needs about 24 GB. LTX-Video 0.9.5: fast, 24 fps, about 12 GB. CogVideoX 2B: older, "
        "720x480 at 8 fps, up to 49 frames. Sketch Video: a toy model shipped with Weft that knows only flat "
        "shapes moving on plain backgrounds, 64x64, 17 frames at 8 fps."))
    aspect = V.aspect_param("custom")
    resolution = V.resolution_param()
    width = V.width_param()
    height = V.height_param()
    duration_unit = V.duration_unit_param("frames")
    seconds = V.seconds_param()
    frames = V.frames_param()
    fps = V.fps_param()
    steps = V.steps_param()
    guidance = V.guidance_param()
    shift = V.shift_param()
    schedule = V.schedule_param()
    seed = V.seed_param()
    negative_prompt = V.negative_param()

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[tuple[str, str]]:
        return V.shape_problems(params)

    def run(self, ctx: RunContext, *, prompt: str, model: str, seed: int, negative_prompt: str,
            **params: Any) -> dict[str, Any]:
        from nodes.video_rules import recommended, T2V
        from nodes.values import Video

        shape = V.resolve(model, params)
        steps, guidance, shift = recommended(model, params)
        self.refuse_unknown_words(model, prompt, negative_prompt if guidance > 1.0 else "")
        pixels = ctx.video.render(ctx, model, T2V, shape=shape, prompt=prompt, negative_prompt=negative_prompt,
                                  steps=steps, guidance=guidance, shift=shift, seed=seed,
                                  schedule=params.get("schedule", "default"))
        return {"video": Video(pixels, shape.fps)}


class TextToAudio(ModelNode):
    type_id = "text_to_audio"
    title = "Text to Audio"
    description = "Sound generated from a prompt: effects, ambience, music."
    tags = ("t2a", "sound", "generate", "stable audio", "music", "sfx")

    prompt = Input(T.TEXT, help="What it sounds like: the source, the place, the mood, the tempo.")
    audio = Output(T.AUDIO)

    model = Param.choice("stable-audio-open-1.0", lambda: models_for("text_to_audio"),
                         help="The audio model. Stable Audio Open: effects, ambience and loops, 44.1 kHz stereo, "
                              "up to 47 s. LongCat-AudioDiT 1B: 24 kHz mono, up to 30 s, about 16 steps. Sketch "
                              "Sound: a toy model shipped with Weft that knows only beeps, whistles, hums, noise "
                              "and clicks, 1-4 s at 16 kHz.")
    seconds = Param.float(5.0, min=0.5, max=47.0, step=0.5,
                          help="Length of the sound in seconds; the result is exactly this long.")
    steps = Param.int(100, min=1, max=500, help="Denoising steps: more is slower and usually cleaner.")
    guidance = Param.float(7.0, min=1.0, max=20.0, step=0.5, help="How strongly the sound follows the prompt.")
    seed = Param.seed(0)
    negative_prompt = Param.text("low quality, distorted", multiline=True, help="What the sound should avoid.")

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[tuple[str, str]]:
        from nodes.sound_rules import check_length
        problem = check_length(params["model"], params["seconds"], "asked for")
        return [("seconds", problem)] if problem else []

    def run(self, ctx: RunContext, *, prompt: str, model: str, seconds: float, steps: int, guidance: float,
            seed: int, negative_prompt: str, **_: Any) -> dict[str, Any]:
        # One call for every audio model (Stable Audio, LongCat, ...): engines/audio_models.py.
        self.refuse_unknown_words(model, prompt, negative_prompt if guidance > 1.0 else "")
        return {"audio": ctx.sound.generate_sound(ctx, model, prompt=prompt, negative_prompt=negative_prompt,
                                                  seconds=seconds, steps=steps, guidance=guidance, seed=seed)}
