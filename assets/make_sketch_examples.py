"""Write the example projects of the sketch models (assets/examples/sketch_*.weft).

    python assets/make_sketch_examples.py

The sketch models ship with Weft (engines/sketch/weights): these examples render
offline on any machine with `weft render FILE` and no flags. Their prompts use
the sketch world's words only (engines/sketch/world.py, engines/sketch/sounds.py),
the video is the one shape the model makes (64x64, 17 frames at 8 fps = 2.125 s)
and the sound is as long as the video. Authored with the graph API and saved by
the same helper as the other video examples (assets/make_video_examples.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_video_examples import _graph, _node, _prompt, _save, _save_video  # noqa: E402

VIDEO_PROMPT = "a red circle moves right and a yellow square moves down on a blue background"
SOUND_PROMPT = "three high beeps"
# The sketch model's one length: 17 frames at 8 fps.
SECONDS = 17 / 8.0
# Steps and guidance the sketch models are judged with while they train.
# Width, height and seconds are the model's too, so that switching to 'custom' or to
# seconds keeps a shape it makes.
SKETCH_VIDEO = {"model": "sketch-video", "aspect": "1:1", "resolution": "preview", "width": 64, "height": 64,
                "duration_unit": "frames", "seconds": SECONDS, "frames": 17, "fps": 8.0, "steps": 25, "guidance": 5.0, "seed": 0, "negative_prompt": ""}
SKETCH_SOUND = {"model": "sketch-sound", "seconds": SECONDS, "steps": 25, "guidance": 5.0, "seed": 0,
                "negative_prompt": ""}


def sketch_text_to_video() -> None:
    g = _graph()
    _prompt(g, "prompt", VIDEO_PROMPT, "Prompt", (0, 0))
    _node(g, "text_to_video", "t2v", dict(SKETCH_VIDEO), (320, 0), "Text to Video (sketch)")
    g.connect("prompt", "out", "t2v", "prompt")
    _save_video(g, "t2v", "video", (640, 0))
    _save(g, "sketch_text_to_video")


def sketch_video_with_sound() -> None:
    g = _graph()
    _prompt(g, "prompt", VIDEO_PROMPT, "Prompt", (0, 0))
    _prompt(g, "sound_prompt", SOUND_PROMPT, "Sound prompt", (0, 260))
    _node(g, "text_to_video", "t2v", dict(SKETCH_VIDEO), (320, 0), "Text to Video (sketch)")
    _node(g, "text_to_audio", "t2a", dict(SKETCH_SOUND), (320, 260), "Text to Audio (sketch)")
    _node(g, "add_audio_to_video", "mux", {"gain": 0.0, "offset": 0.0, "fit": "trim_or_pad"}, (640, 100))
    g.connect("prompt", "out", "t2v", "prompt")
    g.connect("sound_prompt", "out", "t2a", "prompt")
    g.connect("t2v", "video", "mux", "video")
    g.connect("t2a", "audio", "mux", "audio")
    _save_video(g, "mux", "out", (960, 100))
    _save(g, "sketch_video_with_sound")


ALL = (sketch_text_to_video, sketch_video_with_sound)


def main() -> int:
    for make in ALL:
        make()
    return 0


if __name__ == "__main__":
    sys.exit(main())
