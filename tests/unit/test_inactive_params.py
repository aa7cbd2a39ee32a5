"""What a node's values make irrelevant, and what they come to: the studio shows
the artist the size a preset gives, not a width field the preset overrides."""

from nodes.registry import default_registry

REGISTRY = default_registry()


def values(type_id, **changes):
    node_type = REGISTRY.get(type_id)
    return node_type, {**node_type.default_params(), **changes}


def test_an_aspect_preset_silences_width_and_height_and_says_what_size_it_gives():
    t2v, params = values("text_to_video", aspect="16:9", resolution="preview", width=128, height=80,
                         duration_unit="frames", frames=33, fps=16.0)
    inactive = t2v.inactive_params(params)
    assert inactive["width"] == inactive["height"] == "used only when Aspect is custom"
    assert "resolution" not in inactive
    assert dict(t2v.summary(params)) == {"Size": "480 x 272", "Length": "33 frames, 2.06 s"}


def test_custom_size_silences_the_resolution_and_keeps_the_typed_size():
    t2v, params = values("text_to_video", aspect="custom", width=640, height=352)
    assert "width" not in t2v.inactive_params(params) and "resolution" in t2v.inactive_params(params)
    assert dict(t2v.summary(params))["Size"] == "640 x 352"


def test_duration_unit_silences_the_other_length():
    t2v, params = values("text_to_video", duration_unit="seconds", seconds=2.0, fps=16.0)
    assert "frames" in t2v.inactive_params(params) and "seconds" not in t2v.inactive_params(params)
    assert dict(t2v.summary(params))["Length"] == "33 frames, 2.06 s"  # snapped to 4k+1


def test_switches_that_do_nothing_in_the_current_setting_are_silenced():
    t2v, params = values("text_to_video", guidance=1.0, block_cache="taylorseer")
    inactive = t2v.inactive_params(params)
    assert {"negative_prompt", "adaptive_guidance", "guidance_until"} <= set(inactive)
    assert "cache_threshold" in inactive and "cache_interval" not in inactive
    assert "lora_preset" in inactive
    assert "lora_preset" not in t2v.inactive_params({**params, "lora_file": "fast.safetensors"})


def test_settings_the_model_cannot_take_give_no_summary_validation_names_them():
    t2v, params = values("text_to_video", aspect="custom", width=100, height=100)
    assert t2v.summary(params) == []
    assert any(name == "width" for name, _ in t2v.check(params))


def test_nodes_without_shape_settings_have_nothing_silenced():
    text, params = values("text")
    assert text.inactive_params(params) == {} and text.summary(params) == []


def test_the_videos_own_gain_matters_only_when_mixing():
    mux, params = values("add_audio_to_video", mode="replace")
    assert mux.inactive_params(params) == {"original_gain": "used only when Mode is mix"}
    assert mux.inactive_params({**params, "mode": "mix"}) == {}
