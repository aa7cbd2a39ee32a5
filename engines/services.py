"""The runtime's side of nodes/services.py: the implementations every run context hands its node.

Each service is one of the engine's own modules (a module satisfies a Protocol
structurally); tests/unit/test_layers.py checks them member by member. Every
RunContext implementation (engines/executor.py, and the benches' and tests'
small contexts) takes them from here by inheriting ``EngineServices``, so there
is one binding, not one per context.
"""

from __future__ import annotations

from engines import audio_models, audio_ops, edits, media, streams, video_models


class EngineServices:
    media = media
    streams = streams
    edits = edits
    audio = audio_ops
    video = video_models
    sound = audio_models
