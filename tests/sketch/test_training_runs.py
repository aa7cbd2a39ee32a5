"""The sketch trainers' run folders: a run keeps the recipe it started with."""

from __future__ import annotations

import pytest

from engines.sketch.train_sound import Recipe
from engines.sketch.training import load_recipe


def test_a_run_keeps_its_recipe_and_refuses_a_different_one(tmp_path):
    first = load_recipe(Recipe, tmp_path, ["dit_steps=6", "ratios=256"])
    assert first.dit_steps == 6 and first.ratios == (256,)
    # The same command again (a resumed run) gets the recorded recipe.
    assert load_recipe(Recipe, tmp_path, []) == first
    assert load_recipe(Recipe, tmp_path, ["dit_steps=6"]) == first
    with pytest.raises(SystemExit, match=r"dit_steps=7 \(the run has 6\); use a new run folder"):
        load_recipe(Recipe, tmp_path, ["dit_steps=7"])


def test_a_video_run_starts_from_a_shipped_transformer_only_with_the_text_encoder_it_read(tmp_path):
    """`dit_init` continues from a finished pipeline: its transformer weights are taken as they are,
    and a text encoder other than the one that transformer learnt to read is refused by name."""
    import json
    from pathlib import Path

    import torch
    from diffusers import WanTransformer3DModel
    from transformers import UMT5EncoderModel

    from engines.sketch import train_video

    shipped = Path(train_video.__file__).parent / "weights" / "sketch-video"
    fields = json.loads((shipped / "sketch_recipe.json").read_text())["recipe"]
    r = train_video.Recipe(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()
                              if k in train_video.Recipe.__dataclass_fields__})
    tokenizer = train_video.make_tokenizer()
    torch.manual_seed(0)
    transformer = train_video.make_transformer(r)
    ours = UMT5EncoderModel.from_pretrained(shipped / "text_encoder", torch_dtype=torch.float32)
    train_video._start_from(transformer, ours, shipped)
    want = WanTransformer3DModel.from_pretrained(shipped / "transformer", torch_dtype=torch.float32).state_dict()
    assert all(torch.equal(v, want[k]) for k, v in transformer.state_dict().items())

    other = train_video.make_text_encoder(r, len(tokenizer))  # fresh weights: another encoder
    with pytest.raises(SystemExit, match="text encoder is not this run's"):
        train_video._start_from(train_video.make_transformer(r), other, shipped)


def test_a_video_run_ships_the_moving_average_of_its_transformer_unrounded(tmp_path):
    """With `ema`, the pipeline a run saves holds the average of the transformer's weights, not
    the last step's; saving in half precision leaves the weights training goes on with as
    they were (float32, not rounded to float16 at every evaluation)."""
    import numpy as np
    import torch
    from diffusers import WanTransformer3DModel

    from engines.sketch import train_video, world

    r = load_recipe(train_video.Recipe, tmp_path, [
        "patch=2", "dim_heads=1", "layers=1", "ffn=32", "text_layers=1", "text_steps=0", "clips=4",
        "dit_batch=2", "dit_steps=4", "warmup=1", "ema=0.5", "eval_prompts=1", "eval_steps=2"])
    rng = np.random.default_rng(0)
    captions = [world.random_scene(rng).caption() for _ in range(4)]
    np.savez(tmp_path / "latents.npz", latents=rng.standard_normal((4, 16, 5, 16, 16)).astype(np.float32),
             captions=np.array(captions))
    train_video.make_vae(r).save_pretrained(tmp_path / "vae" / "model")

    train_video.train_dit(r, tmp_path, tmp_path / "out", None)

    state = torch.load(tmp_path / "dit" / "checkpoint.pt", map_location="cpu", weights_only=False)["objects"]
    average, last = state["ema"], state["transformer"]
    shipped = WanTransformer3DModel.from_pretrained(tmp_path / "out" / "transformer").state_dict()
    assert all(torch.equal(shipped[k], v.half()) for k, v in average.items())
    assert any(not torch.equal(shipped[k], v.half()) for k, v in last.items())
    weights = torch.cat([v.flatten() for v in average.values() if v.is_floating_point()])
    assert not torch.equal(weights, weights.half().float())
