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
