"""Picture and sound from one model: LTX-2."""

from __future__ import annotations

from typing import Any

from nodes import types as T
from nodes.catalogue.model_node import ModelNode
from nodes.definition import Input, Output, Param, RunContext


def joint_models() -> tuple[str, ...]:
    from nodes.model_catalogue import CATALOGUE
    return tuple(spec.id for spec in CATALOGUE.values() if spec.task == "text_to_audio_video")


_NEGATIVE = "worst quality, inconsistent motion, blurry, jittery, distorted, static, low quality audio"


class TextToVideoWithSound(ModelNode):
    type_id = "text_to_video_with_sound"
    title = "Text to Video with Sound"
    description = ("A video and its sound generated together from one prompt by LTX-2, so footsteps, "
                   "speech and music can land with what is seen.")
    tags = ("ltx-2", "ltx2", "joint", "audio-video", "t2v", "t2a", "sound", "dialogue", "foley")

    prompt = Input(T.TEXT, help="What is seen and heard: subject, action, setting, camera, and the sounds "
                                "(\"rain on a tin roof\", a line of dialogue in quotes, music style).")
    video = Output(T.VIDEO, help="The frames with their sound track (24 kHz stereo, exactly as long as the "
                                 "picture).")
    audio = Output(T.AUDIO, help="The sound alone.")

    model = Param.choice("ltx-2-19b", joint_models, help="The joint video-and-sound model.")
    width = Param.int(768, min=64, max=1920, step=32, help="Width in pixels (a multiple of 32).")
    height = Param.int(512, min=64, max=1920, step=32, help="Height in pixels (a multiple of 32).")
    frames = Param.int(121, min=9, max=505, step=8,
                       help="Number of frames, of the form 8k+1 (25, 49, 97, 121...). 121 frames at 24 fps is "
                            "about 5 s.")
    fps = Param.float(24.0, min=1.0, max=60.0,
                      help="Frames per second. LTX-2 is conditioned on it, and the sound's length follows "
                           "frames / fps.")
    steps = Param.int(30, min=1, max=200, help="Denoising steps: more is slower and usually cleaner.")
    guidance = Param.float(4.0, min=1.0, max=20.0, step=0.5,
                           help="How strongly the picture follows the prompt (classifier-free guidance); 1 turns "
                                "guidance off and halves the work.")
    seed = Param.seed(0)
    negative_prompt = Param.text(_NEGATIVE, multiline=True, help="What to avoid, in picture and sound.")
    audio_guidance = Param.float(7.0, min=1.0, max=20.0, step=0.5, advanced=True,
                                 help="How strongly the sound follows the prompt. Lightricks suggest a higher "
                                      "value for sound than for picture.")
    stg = Param.float(1.0, min=0.0, max=5.0, step=0.25, advanced=True,
                      help="Spatio-temporal guidance: steadier motion for one more model evaluation per step; "
                           "0 turns it off.")
    modality = Param.float(3.0, min=1.0, max=10.0, step=0.5, advanced=True,
                           help="Modality guidance: how tightly sound and picture stay tied to each other, for "
                                "one more evaluation per step; 1 turns it off.")

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[tuple[str, str]]:
        problems = []
        for name in ("width", "height"):
            value = params[name]
            if value % 32:
                lower = value - value % 32
                problems.append((name, f"{value} is not a multiple of 32; use {max(lower, 32)} or {lower + 32}"))
        frames = params["frames"]
        if (frames - 1) % 8:
            lower = frames - (frames - 1) % 8
            problems.append(("frames", f"{frames} is not of the form 8k+1; use {lower} or {lower + 8}"))
        return problems

    def run(self, ctx: RunContext, *, prompt: str, model: str, width: int, height: int, frames: int, fps: float,
            steps: int, guidance: float, seed: int, negative_prompt: str, audio_guidance: float, stg: float,
            modality: float, **_: Any) -> dict[str, Any]:
        from nodes.values import Video

        pixels, sound = ctx.sound.generate_video_with_sound(
            ctx, model, prompt=prompt, negative_prompt=negative_prompt, width=width, height=height, frames=frames,
            fps=fps, steps=steps, guidance=guidance, audio_guidance=audio_guidance, stg=stg, modality=modality,
            seed=seed)
        return {"video": Video(pixels, fps, sound), "audio": sound}
