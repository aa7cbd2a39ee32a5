"""Tiny twins of the sound-making families: LongCat-AudioDiT, LTX-2 (picture and
sound together) and ACE-Step (music with lyrics).

Same rules as ``engines/models/tiny.py`` (which imports this module so the
families register): the real pipeline class and component layout, the real
sample rates, hops and compression ratios, so durations, frame counts and
sample counts come out as the real model's would; every width and depth
shrunk; random weights, so the output is noise. Tokenizers are trained
offline on ``tiny._CORPUS``.
"""

from __future__ import annotations

from engines.models.tiny import _CORPUS, _family, _train_t5_tokenizer


@_family("longcat_audio", version=1)
def _build_longcat_audio():
    """LongCat-AudioDiT 1B, as in ruixiangma/LongCat-AudioDiT-1B-Diffusers.

    Kept: 24 kHz mono, the waveform VAE's 2048-sample hop (five strides,
    2*4*4*8*8), a UMT5 text encoder, the DiT's text ConvNeXt and latent
    conditioning, the flow-matching scheduler the pipeline builds for
    itself. Shrunk: every width and depth.
    """
    import torch
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        LongCatAudioDiTPipeline,
        LongCatAudioDiTTransformer,
        LongCatAudioDiTVae,
    )
    from transformers import UMT5Config, UMT5EncoderModel

    tokenizer = _train_t5_tokenizer(model_max_length=512)
    text_dim = 32
    latent_dim = 8

    torch.manual_seed(0)
    text_encoder = UMT5EncoderModel(
        UMT5Config(vocab_size=len(tokenizer), d_model=text_dim, d_kv=8, d_ff=64, num_layers=1, num_heads=4,
                   relative_attention_num_buckets=8)
    ).eval()

    torch.manual_seed(0)
    transformer = LongCatAudioDiTTransformer(
        dit_dim=64, dit_depth=2, dit_heads=4, dit_text_dim=text_dim, latent_dim=latent_dim, ff_mult=2.0,
    )

    torch.manual_seed(0)
    vae = LongCatAudioDiTVae(
        in_channels=1,
        channels=4,
        c_mults=[1, 1, 1, 2, 2],
        strides=[2, 4, 4, 8, 8],  # 2048 samples per latent frame, as the real VAE
        latent_dim=latent_dim,
        encoder_latent_dim=2 * latent_dim,
        downsampling_ratio=2048,
        sample_rate=24000,
    )

    return LongCatAudioDiTPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
        # What the pipeline makes when given none; saved so the folder is complete.
        scheduler=FlowMatchEulerDiscreteScheduler(shift=1.0, invert_sigmas=True),
    )


def _train_gemma_tokenizer():
    """A Gemma tokenizer trained offline. ``add_bos_token``: without it an empty
    prompt tokenizes to nothing and its attention row is all masked."""
    from transformers import GemmaTokenizer

    tokenizer = GemmaTokenizer(add_bos_token=True).train_new_from_iterator(
        _CORPUS, vocab_size=300, show_progress=False
    )
    tokenizer.model_max_length = 1024
    return tokenizer


@_family("ltx2", version=1)
def _build_ltx2():
    """LTX-2, as in Lightricks/LTX-2: video and its sound from one transformer.

    Kept: the video VAE's 32x spatial and 8x temporal compression (so sizes
    must be multiples of 32 and frame counts 8k+1, as for the real model),
    the audio path at 16 kHz mel with a 160-sample hop and 4x latent
    compression (25 audio latents a second), the vocoder's 240x upsampling to
    24 kHz stereo (so the sound lasts exactly as long as the picture), a
    Gemma 3 text encoder feeding the text connectors, dynamic flow shift.
    Shrunk: every width and depth.
    """
    import torch
    from diffusers import (
        AutoencoderKLLTX2Audio,
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
        LTX2Pipeline,
        LTX2VideoTransformer3DModel,
    )
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration, Gemma3TextConfig, SiglipVisionConfig

    tokenizer = _train_gemma_tokenizer()
    text_hidden, text_layers = 32, 2

    torch.manual_seed(0)
    text_encoder = Gemma3ForConditionalGeneration(
        Gemma3Config(
            text_config=Gemma3TextConfig(
                vocab_size=len(tokenizer), hidden_size=text_hidden, intermediate_size=64,
                num_hidden_layers=text_layers, num_attention_heads=2, num_key_value_heads=1, head_dim=8,
                sliding_window=8, max_position_embeddings=2048,
            ),
            vision_config=SiglipVisionConfig(
                hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                image_size=8, patch_size=2,
            ),
            mm_tokens_per_image=4,
        )
    ).eval()

    torch.manual_seed(0)
    connectors = LTX2TextConnectors(
        caption_channels=text_hidden,  # must equal the Gemma hidden size and heads x head_dim below
        text_proj_in_factor=text_layers + 1,  # every hidden state, embeddings included
        video_connector_num_attention_heads=4,
        video_connector_attention_head_dim=8,
        video_connector_num_layers=1,
        video_connector_num_learnable_registers=None,
        audio_connector_num_attention_heads=4,
        audio_connector_attention_head_dim=8,
        audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None,
        connector_rope_base_seq_len=32,
        rope_theta=10000.0,
        rope_double_precision=False,
        causal_temporal_positioning=False,
        rope_type="split",
    )

    video_latent = 8
    torch.manual_seed(0)
    vae = AutoencoderKLLTX2Video(
        in_channels=3,
        out_channels=3,
        latent_channels=video_latent,
        # Doubling per level, as the real VAE's (the decoder's pixel-shuffle
        # upsamplers halve channels and count on it).
        block_out_channels=(4, 8, 16, 32),
        decoder_block_out_channels=(8, 16, 32),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True, True),
        decoder_spatio_temporal_scaling=(True, True, True),
        decoder_inject_noise=(False, False, False, False),
        downsample_type=("spatial", "temporal", "spatiotemporal", "spatiotemporal"),
        upsample_type=("spatiotemporal", "spatiotemporal", "spatiotemporal"),
        upsample_residual=(True, True, True),
        upsample_factor=(2, 2, 2),
        timestep_conditioning=False,
        patch_size=4,
        patch_size_t=1,
        spatial_compression_ratio=32,  # patch 4 x three spatial halvings
        temporal_compression_ratio=8,  # three temporal halvings
    )

    # Packed audio latents: channels x mel bins / 4. The latent statistics
    # (sized base_channels) normalise exactly that many values.
    audio_latent, mel_bins = 2, 16
    packed_audio = audio_latent * mel_bins // 4
    torch.manual_seed(0)
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=packed_audio,
        output_channels=2,
        ch_mult=(1, 2, 4),  # two halvings: the 4x the pipeline assumes in time and in mel bins
        num_res_blocks=1,
        attn_resolutions=None,
        in_channels=2,
        resolution=32,
        latent_channels=audio_latent,
        norm_type="pixel",
        causality_axis="height",
        dropout=0.0,
        mid_block_add_attention=False,
        sample_rate=16000,
        mel_hop_length=160,
        is_causal=True,
        mel_bins=mel_bins,
    )

    torch.manual_seed(0)
    vocoder = LTX2Vocoder(
        in_channels=2 * mel_bins,
        hidden_channels=64,  # halved by each of the five upsamplers
        out_channels=2,
        upsample_kernel_sizes=[12, 10, 4, 4, 4],
        upsample_factors=[6, 5, 2, 2, 2],  # 240 x 100 mel frames/s = 24 kHz, as the real vocoder
        resnet_kernel_sizes=[3],
        resnet_dilations=[[1, 3, 5]],
        leaky_relu_negative_slope=0.1,
        output_sampling_rate=24000,
    )

    torch.manual_seed(0)
    transformer = LTX2VideoTransformer3DModel(
        in_channels=video_latent,
        out_channels=video_latent,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        audio_in_channels=packed_audio,
        audio_out_channels=packed_audio,
        audio_num_attention_heads=2,
        audio_attention_head_dim=4,
        audio_cross_attention_dim=8,
        num_layers=2,
        qk_norm="rms_norm_across_heads",
        caption_channels=text_hidden,
        rope_double_precision=False,
        rope_type="split",
    )

    scheduler = FlowMatchEulerDiscreteScheduler(
        use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05, base_image_seq_len=1024,
        max_image_seq_len=4096, shift_terminal=0.1,
    )

    return LTX2Pipeline(
        scheduler=scheduler,
        vae=vae,
        audio_vae=audio_vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        connectors=connectors,
        transformer=transformer,
        vocoder=vocoder,
    )


def _train_qwen_tokenizer():
    """A Qwen2 byte-level BPE tokenizer trained offline (the real ACE-Step ships
    Qwen3-Embedding's, the same kind)."""
    from transformers import Qwen2TokenizerFast

    tokenizer = Qwen2TokenizerFast().train_new_from_iterator(_CORPUS, vocab_size=400, show_progress=False)
    tokenizer.model_max_length = 4096
    return tokenizer


@_family("ace_step", version=1)
def _build_ace_step():
    """ACE-Step 1.5 turbo, as in ACE-Step/acestep-v15-xl-turbo-diffusers: music with lyrics.

    Kept: 48 kHz stereo, the Oobleck VAE's 1920-sample hop (strides 2*4*4*6*10,
    25 latent frames a second), a Qwen3 text encoder shared by the prompt and
    the lyrics, the lyric and timbre condition encoders, the patch-2 DiT with
    alternating sliding and full attention, the turbo flag (guidance distilled
    into the weights, so no classifier-free guidance and 8 steps), the
    scheduler set up for the pipeline's own sigmas. Shrunk: every width and
    depth; the silence latent the timbre encoder reads without a reference is
    left at zeros (the real one is encoded silence).
    """
    import torch
    from diffusers import AceStepPipeline, AutoencoderOobleck, FlowMatchEulerDiscreteScheduler
    from diffusers.models.transformers.ace_step_transformer import AceStepTransformer1DModel
    from diffusers.pipelines.ace_step.modeling_ace_step import AceStepConditionEncoder
    from transformers import Qwen3Config, Qwen3Model

    tokenizer = _train_qwen_tokenizer()
    text_hidden = 32
    latent = 4  # VAE latent channels (the real model has 64)
    hidden = 32

    torch.manual_seed(0)
    text_encoder = Qwen3Model(
        Qwen3Config(vocab_size=len(tokenizer), hidden_size=text_hidden, intermediate_size=64, num_hidden_layers=2,
                    num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=4096)
    ).eval()

    torch.manual_seed(0)
    condition_encoder = AceStepConditionEncoder(
        hidden_size=hidden, intermediate_size=64, text_hidden_dim=text_hidden, timbre_hidden_dim=latent,
        num_lyric_encoder_hidden_layers=1, num_timbre_encoder_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=1, head_dim=16,
    )

    torch.manual_seed(0)
    transformer = AceStepTransformer1DModel(
        hidden_size=hidden, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, head_dim=16,
        in_channels=3 * latent,  # noisy latents, source latents and the chunk mask side by side
        audio_acoustic_hidden_dim=latent, patch_size=2, is_turbo=True, model_version="turbo",
    )

    torch.manual_seed(0)
    vae = AutoencoderOobleck(
        encoder_hidden_size=2 * latent,
        downsampling_ratios=[2, 4, 4, 6, 10],  # 1920 samples a latent frame at 48 kHz
        channel_multiples=[1, 1, 1, 2, 2],
        decoder_channels=2,
        decoder_input_channels=latent,
        audio_channels=2,
        sampling_rate=48000,
    )

    return AceStepPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
        condition_encoder=condition_encoder,
        scheduler=FlowMatchEulerDiscreteScheduler(num_train_timesteps=1, shift=1.0),
    )
