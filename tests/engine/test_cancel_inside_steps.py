"""Cancel inside a denoising step, on the tiny models: the check before every
transformer block stops the pipeline half-way through a step, not after it.

The timing (under 0.5 s on a real step) is measured by bench/cancel.py; here
the order of events is checked: the cancel arrives while block 0 of the first
step is about to run, and neither block 0 nor any later block runs, nor does
the step end.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from engines.services import EngineServices
from nodes.catalogue.generate import TextToVideo
from nodes.definition import Cancelled

torch = pytest.importorskip("torch")

WAN = "wan2.1-t2v-1.3b"


class Ctx(EngineServices):
    """The RunContext a model node sees, with a real cancel flag."""

    def __init__(self) -> None:
        self.node_type = TextToVideo
        self.node_id = "n1"
        self.models_profile = "tiny"
        self.params = TextToVideo.default_params()
        self.stats: dict[str, Any] = {}
        self.steps_done: list[int] = []
        self.cancel = threading.Event()

    def progress(self, step: int, total: int, preview: Any = None) -> None:
        self.steps_done.append(step)
        self.check_cancelled()

    def check_cancelled(self) -> None:
        if self.cancel.is_set():
            raise Cancelled()

    def resolve_path(self, path: str) -> Path:
        return Path(path)


@pytest.fixture(scope="module")
def wan(tiny_models_dir):
    from engines.models.manager import ModelManager

    return ModelManager(profile="tiny", tiny_dir=tiny_models_dir).pipeline(WAN)


def test_a_cancel_mid_step_stops_before_the_next_block_runs(wan):
    from engines.accel.counting import transformer_blocks
    from engines.diffusion import generator, run_denoiser

    ctx = Ctx()
    blocks = transformer_blocks(wan.transformer)
    assert len(blocks) >= 2
    ran: list[int] = []
    # The artist presses Esc while the first step is inside the transformer:
    # the flag is set as block 0 is entered, before its weights run.
    arrive = blocks[0].register_forward_pre_hook(lambda m, a: ctx.cancel.set())
    seen = [b.register_forward_hook(lambda m, a, out, i=i: ran.append(i)) for i, b in enumerate(blocks)]
    try:
        with pytest.raises(Cancelled):
            run_denoiser(ctx, wan, steps=4, guidance_scale=1.0, generator=generator(0), prompt="a red fox",
                         width=32, height=32, num_frames=9, output_type="latent")
    finally:
        arrive.remove()
        for handle in seen:
            handle.remove()
    assert ctx.steps_done == []   # the step never finished
    assert ran == []              # no block ran after the cancel, not even the one it arrived at
    # The hooks are gone afterwards: the next run is not cancelled by a stale check.
    ctx.cancel.clear()
    run_denoiser(ctx, wan, steps=2, guidance_scale=1.0, generator=generator(0), prompt="a red fox",
                 width=32, height=32, num_frames=9, output_type="latent")
    assert ctx.steps_done == [1, 2]
    assert not any(b._forward_pre_hooks for b in blocks)


def test_the_checks_cover_the_blocks_of_every_denoiser_and_the_vae(wan):
    from engines.accel.counting import transformer_blocks
    from engines.diffusion import CancelInsideSteps

    modules = CancelInsideSteps(Ctx(), wan).modules()
    ids = {id(m) for m in modules}
    assert id(wan.transformer) in ids
    assert all(id(b) in ids for b in transformer_blocks(wan.transformer))
    assert any(id(m) in ids for m in wan.vae.modules() if m is not wan.vae)
