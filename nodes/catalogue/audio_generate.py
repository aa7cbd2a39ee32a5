"""Generated sound beyond plain text to audio: music with lyrics, and a soundtrack
of exactly a video's length."""

from __future__ import annotations

from typing import Any

from nodes import types as T
from nodes.catalogue.model_node import ModelNode
from nodes.definition import Input, NodeError, Output, Param, RunContext
from nodes.values import Video


def sound_models() -> tuple[str, ...]:
    """Every model that makes sound from a prompt: text to audio, then music."""
    from nodes.model_catalogue import CATALOGUE
    return tuple(spec.id for spec in CATALOGUE.values() if spec.task in ("text_to_audio", "text_to_music"))


class SoundtrackForVideo(ModelNode):
    type_id = "soundtrack_for_video"
    title = "Soundtrack for Video"
    description = ("Generates sound from a prompt, exactly as long as the video, and puts it on the video "
                   "(replacing or mixed with the sound it has).")
    tags = ("t2a", "sound", "music", "foley", "score", "stable audio", "mux")

    video = Input(T.VIDEO, help="The picture to score. Its length sets the sound's length.")
    prompt = Input(T.TEXT, help="What it should sound like: the sources, the place, the mood, the tempo.")
    out = Output(T.VIDEO, label="Video", help="The video with the new sound.")
    audio = Output(T.AUDIO, help="The generated sound alone (faded as set, before mixing).")

    model = Param.choice("stable-audio-open-1.0", sound_models,
                         help="The sound model. The prompt only describes the sound: these models do not see "
                              "the picture, so timing to on-screen events is up to the prompt and luck. Stable "
                              "Audio Open: up to 47 s; LongCat-AudioDiT: up to 30 s; ACE-Step: music, no lyrics "
                              "here (use Text to Music for songs).")
    steps = Param.int(100, min=1, max=500,
                      help="Denoising steps: more is slower and usually cleaner. About 100 for Stable Audio, "
                           "16 for LongCat, 8 for ACE-Step Turbo.")
    guidance = Param.float(7.0, min=1.0, max=20.0, step=0.5, help="How strongly the sound follows the prompt.")
    seed = Param.seed(0)
    negative_prompt = Param.text("low quality, distorted", multiline=True, help="What the sound should avoid.")
    mode = Param.choice("replace", ("replace", "mix"),
                        help="replace: the new sound replaces the video's own; mix: both play together. A video "
                             "without sound just gets the new one.")
    gain = Param.float(0.0, min=-60.0, max=24.0, step=0.5, help="Loudness of the new sound in decibels.")
    original_gain = Param.float(-6.0, min=-60.0, max=24.0, step=0.5,
                                help="In mix mode, the loudness change of the video's own sound, in decibels.")
    fade_in = Param.float(0.0, min=0.0, max=30.0, step=0.1, help="Seconds of fade-in at the start of the new sound.")
    fade_out = Param.float(0.5, min=0.0, max=30.0, step=0.1,
                           help="Seconds of fade-out at its end, so the sound does not stop with a click.")

    def run(self, ctx: RunContext, *, video: Video, prompt: str, model: str, steps: int, guidance: float,
            seed: int, negative_prompt: str, mode: str, gain: float, original_gain: float, fade_in: float,
            fade_out: float, **_: Any) -> dict[str, Any]:
        from nodes.sound_rules import check_length

        self.refuse_unknown_words(model, prompt, negative_prompt if guidance > 1.0 else "")
        problem = check_length(model, video.seconds, "the video lasts")
        if problem:
            raise NodeError(f"input 'video': {problem}. Trim it (Trim Video) or score it in parts.")
        sound = ctx.sound.generate_sound(ctx, model, prompt=prompt, negative_prompt=negative_prompt,
                                         seconds=video.seconds, steps=steps, guidance=guidance, seed=seed)
        sound = ctx.audio.fade(sound, fade_in, fade_out, "linear")
        tracks, gains = [sound], [gain]
        if mode == "mix" and video.audio is not None:
            tracks.append(ctx.edits.track_for(video))
            gains.append(original_gain)
        mixed = ctx.audio.mix(tracks, gains, length="first", overflow="normalize")
        # Exactly the picture's length at the mix's rate (the generator already
        # made it so; the mix keeps it).
        mixed = ctx.audio.fit_length(mixed, ctx.audio.seconds_to_samples(video.seconds, mixed.rate))
        return {"out": video.with_audio(mixed), "audio": sound}


class TextToMusic(ModelNode):
    type_id = "text_to_music"
    title = "Text to Music"
    description = "A song from a style prompt and lyrics (ACE-Step 1.5): vocals, instruments, structure."
    tags = ("music", "song", "lyrics", "vocals", "ace-step", "t2m")

    prompt = Input(T.TEXT, help="The style: genre, instruments, voice, mood, tempo (\"upbeat synth-pop, female "
                                "vocals, 120 bpm\").")
    audio = Output(T.AUDIO, help="48 kHz stereo, exactly as long as asked.")

    model = Param.choice("ace-step-1.5-xl-turbo", lambda: _models("text_to_music"), help="The music model.")
    lyrics = Param.text("", multiline=True,
                        help="The words to sing, with section tags on their own lines: [verse], [chorus], [bridge], "
                             "[outro]. Empty: an instrumental.")
    seconds = Param.float(30.0, min=1.0, max=600.0, step=1.0,
                          help="Length of the song in seconds (ACE-Step makes 10 s to 10 min; shorter works but is "
                               "outside what it was trained on).")
    bpm = Param.int(0, min=0, max=300, help="Tempo in beats per minute; 0 lets the model choose.")
    key = Param.text("", help="Key and scale, such as \"C major\" or \"F# minor\"; empty lets the model choose.")
    steps = Param.int(8, min=1, max=200, help="Denoising steps: 8 for the Turbo model, about 50 for the base model.")
    guidance = Param.float(7.0, min=1.0, max=20.0, step=0.5,
                           help="How strongly the song follows the prompt. Ignored by Turbo models, whose guidance "
                                "is built into the weights.")
    seed = Param.seed(0)

    def run(self, ctx: RunContext, *, prompt: str, model: str, lyrics: str, seconds: float, bpm: int, key: str,
            steps: int, guidance: float, seed: int, **_: Any) -> dict[str, Any]:
        return {"audio": ctx.sound.generate_sound(ctx, model, prompt=prompt, negative_prompt="", seconds=seconds,
                                                  steps=steps, guidance=guidance, seed=seed, lyrics=lyrics,
                                                  bpm=bpm, keyscale=key)}


def _models(task: str) -> tuple[str, ...]:
    from nodes.model_catalogue import CATALOGUE
    return tuple(spec.id for spec in CATALOGUE.values() if spec.task == task)
