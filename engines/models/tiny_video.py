"""Tiny twins of the video families beyond Wan 2.1 text-to-video.

Same contract as `engines/models/tiny.py` (whose `_family` decorator registers
these): the real pipeline class, components and compression ratios, random
weights, every width and depth shrunk until a render at artist-sized frames
takes seconds on two CPU cores. What they render is noise.

What each twin keeps from its real model is what Weft's nodes depend on:
the VAE's spatial and temporal compression (so the size and frame-count rules
are the real ones), the latent channel count (so previews project the same
tensor shapes), the scheduler class and its shift, the conditioning paths
(VACE's reference frames and masks, Wan 2.2's first-frame timestep mask, the
CLIP image encoder of Wan 2.1 I2V, LTX's frame conditions).
"""

from __future__ import annotations

from engines.models.tiny import _family, _train_t5_tokenizer

TEXT_DIM = 32  # the tiny UMT5/T5 width; every transformer's text_dim must match


def _umt5(tokenizer):
    from transformers import UMT5Config, UMT5EncoderModel

    return UMT5EncoderModel(
        UMT5Config(vocab_size=len(tokenizer), d_model=TEXT_DIM, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
                   relative_attention_num_buckets=8)
    ).eval()  # eval: dropout would make renders non-deterministic


def _t5(tokenizer):
    from transformers import T5Config, T5EncoderModel

    return T5EncoderModel(T5Config(vocab_size=len(tokenizer), d_model=TEXT_DIM, d_kv=8, d_ff=64, num_layers=2,
                                   num_decoder_layers=2, num_heads=4, relative_attention_num_buckets=8)).eval()


def _wan21_vae():
    """The Wan 2.1 VAE shrunk as in tiny.py: 8x spatial, 4x temporal, 16 channels."""
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=0,
                            temperal_downsample=[False, True, True])


def _wan_unipc(flow_shift: float):
    """The scheduler the real Wan repos ship (UniPC on flow sigmas)."""
    from diffusers import UniPCMultistepScheduler

    return UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=flow_shift,
                                   num_train_timesteps=1000, solver_order=2, solver_type="bh2",
                                   final_sigmas_type="zero", lower_order_final=True)


def _wan_transformer_kwargs(**overrides):
    kwargs = dict(
        patch_size=(1, 2, 2),
        num_attention_heads=1,  # one head: attention dominates a step at 480p (see tiny.py)
        attention_head_dim=12,  # divisible by 6: rotary dims split over t, h, w
        in_channels=16,
        out_channels=16,
        text_dim=TEXT_DIM,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=1024,
    )
    kwargs.update(overrides)
    return kwargs


@_family("wan21_vace", version=1)
def _build_wan21_vace():
    """Wan 2.1 VACE, as in Wan-AI/Wan2.1-VACE-1.3B-diffusers (and the 14B).

    Kept: the Wan 2.1 VAE (8x/4x, 16 channels), the VACE control path with its
    96 input channels (16 inactive + 16 reactive video latents + 64 = 8x8 mask
    channels), control blocks interleaved with the main blocks as in the real
    model (every other layer), reference frames prepended in latent space.
    """
    import torch
    from diffusers import WanVACEPipeline, WanVACETransformer3DModel

    tokenizer = _train_t5_tokenizer(model_max_length=512)
    torch.manual_seed(0)
    text_encoder = _umt5(tokenizer)
    torch.manual_seed(0)
    vae = _wan21_vae()
    torch.manual_seed(0)
    transformer = WanVACETransformer3DModel(**_wan_transformer_kwargs(num_layers=2), vace_layers=[0],
                                            vace_in_channels=96)
    return WanVACEPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=_wan_unipc(3.0),
                           transformer=transformer)


# Wan 2.2's 48-channel VAE statistics, from Wan-AI/Wan2.2-TI2V-5B-Diffusers
# vae/config.json: kept so latents are normalised the way the real model's are.
_WAN22_LATENTS_MEAN = [
    -0.2289, -0.0052, -0.1323, -0.2339, -0.2799, 0.0174, 0.1838, 0.1557, -0.1382, 0.0542, 0.2813, 0.0891,
    0.157, -0.0098, 0.0375, -0.1825, -0.2246, -0.1207, -0.0698, 0.5109, 0.2665, -0.2108, -0.2158, 0.2502,
    -0.2055, -0.0322, 0.1109, 0.1567, -0.0729, 0.0899, -0.2799, -0.123, -0.0313, -0.1649, 0.0117, 0.0723,
    -0.2839, -0.2083, -0.052, 0.3748, 0.0152, 0.1957, 0.1433, -0.2944, 0.3573, -0.0548, -0.1681, -0.0667,
]
_WAN22_LATENTS_STD = [
    0.4765, 1.0364, 0.4514, 1.1677, 0.5313, 0.499, 0.4818, 0.5013, 0.8158, 1.0344, 0.5894, 1.0901,
    0.6885, 0.6165, 0.8454, 0.4978, 0.5759, 0.3523, 0.7135, 0.6804, 0.5833, 1.4146, 0.8986, 0.5659,
    0.7069, 0.5338, 0.4889, 0.4917, 0.4069, 0.4999, 0.6866, 0.4093, 0.5709, 0.6065, 0.6415, 0.4944,
    0.5726, 1.2042, 0.5458, 1.6887, 0.3971, 1.06, 0.3943, 0.5537, 0.5444, 0.4089, 0.7468, 0.7744,
]


@_family("wan22_ti2v", version=1)
def _build_wan22_ti2v():
    """Wan 2.2 TI2V 5B, as in Wan-AI/Wan2.2-TI2V-5B-Diffusers.

    Kept: the 48-channel residual VAE with its 2x2 patchify (16x spatial,
    4x temporal; with the transformer's 2x2 patch, sizes are multiples of 32),
    its latent statistics, `expand_timesteps` (the first frame enters as a
    clean latent through a per-token timestep mask: the same weights do text-
    and image-to-video), UniPC with shift 5.
    """
    import torch
    from diffusers import AutoencoderKLWan, WanPipeline, WanTransformer3DModel

    tokenizer = _train_t5_tokenizer(model_max_length=512)
    torch.manual_seed(0)
    text_encoder = _umt5(tokenizer)
    torch.manual_seed(0)
    vae = AutoencoderKLWan(
        base_dim=3, z_dim=48, in_channels=12, out_channels=12, is_residual=True, patch_size=2,
        latents_mean=_WAN22_LATENTS_MEAN, latents_std=_WAN22_LATENTS_STD, dim_mult=[1, 1, 1, 1],
        num_res_blocks=0, scale_factor_spatial=16, scale_factor_temporal=4,
        temperal_downsample=[False, True, True],
    )
    torch.manual_seed(0)
    transformer = WanTransformer3DModel(**_wan_transformer_kwargs(in_channels=48, out_channels=48))
    return WanPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=_wan_unipc(5.0),
                       transformer=transformer, expand_timesteps=True)


def _wan21_i2v(*, last_frame: bool):
    import torch
    from diffusers import WanImageToVideoPipeline, WanTransformer3DModel
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    tokenizer = _train_t5_tokenizer(model_max_length=512)
    torch.manual_seed(0)
    text_encoder = _umt5(tokenizer)
    torch.manual_seed(0)
    vae = _wan21_vae()
    # The real encoder is CLIP ViT-H/14 at 224 px (257 tokens); the pipeline
    # feeds the transformer its penultimate hidden states, so image_dim must be
    # the CLIP width. 32 px in 8 px patches: 16 + 1 tokens per image.
    clip_width, image_size, patch = 8, 32, 8
    torch.manual_seed(0)
    image_encoder = CLIPVisionModel(CLIPVisionConfig(hidden_size=clip_width, intermediate_size=16,
                                                     num_hidden_layers=2, num_attention_heads=2,
                                                     image_size=image_size, patch_size=patch,
                                                     projection_dim=clip_width))
    image_processor = CLIPImageProcessor(crop_size=image_size, size=image_size)
    tokens_per_image = (image_size // patch) ** 2 + 1
    torch.manual_seed(0)
    transformer = WanTransformer3DModel(**_wan_transformer_kwargs(
        in_channels=36,  # 16 noise + 4 frame-mask + 16 conditioning latents
        image_dim=clip_width,
        added_kv_proj_dim=12,  # the real I2V models' image cross-attention (= inner dim)
        # FLF2V learns positions for the two images' tokens; I2V has none.
        pos_embed_seq_len=2 * tokens_per_image if last_frame else None,
    ))
    return WanImageToVideoPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae,
                                   scheduler=_wan_unipc(5.0 if last_frame else 3.0), transformer=transformer,
                                   image_encoder=image_encoder, image_processor=image_processor)


@_family("wan21_i2v", version=1)
def _build_wan21_i2v():
    """Wan 2.1 I2V 14B 480P, as in Wan-AI/Wan2.1-I2V-14B-480P-Diffusers: a CLIP
    image encoder plus the first frame as 16 conditioning latent channels."""
    return _wan21_i2v(last_frame=False)


@_family("wan21_flf2v", version=1)
def _build_wan21_flf2v():
    """Wan 2.1 FLF2V 14B 720P, as in Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers: I2V
    with learned positions for the first and the last frame's CLIP tokens."""
    return _wan21_i2v(last_frame=True)


@_family("ltx_video", version=1)
def _build_ltx_video():
    """LTX-Video 0.9.5, as in Lightricks/LTX-Video-0.9.5, loaded as LTXConditionPipeline.

    Kept: the VAE's 4x4 patchify and three 2x space-time downsamplings (32x
    spatial, 8x temporal, so sizes are multiples of 32 and frame counts 8k+1),
    its 128 latent channels, the timestep-conditioned decoder of 0.9.1 and
    later (decode_timestep / decode_noise_scale), the transformer's 1x1 patch,
    T5 prompts, the flow-matching scheduler with resolution-dependent shift.
    LTXConditionPipeline does text-to-video without conditions and image-,
    keyframe- and video-conditioned generation with them.
    """
    import torch
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXConditionPipeline,
        LTXVideoTransformer3DModel,
    )
    tokenizer = _train_t5_tokenizer(model_max_length=256)
    torch.manual_seed(0)
    text_encoder = _t5(tokenizer)
    latent_channels = 128
    torch.manual_seed(0)
    vae = AutoencoderKLLTXVideo(
        in_channels=3, out_channels=3, latent_channels=latent_channels,
        block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True, False),
        decoder_spatio_temporal_scaling=(True, True, True, False),
        decoder_inject_noise=(False, False, False, False, False),
        upsample_residual=(False, False, False, False), upsample_factor=(1, 1, 1, 1),
        timestep_conditioning=True, patch_size=4, patch_size_t=1,
        encoder_causal=True, decoder_causal=False,
    )
    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=latent_channels, out_channels=latent_channels, patch_size=1, patch_size_t=1,
        num_attention_heads=1, attention_head_dim=16, cross_attention_dim=16, num_layers=1,
        caption_channels=TEXT_DIM,
    )
    scheduler = FlowMatchEulerDiscreteScheduler(
        num_train_timesteps=1000, shift=1.0, use_dynamic_shifting=False,
        base_shift=0.95, max_shift=2.05, base_image_seq_len=1024, max_image_seq_len=4096,
        shift_terminal=0.1,
    )
    return LTXConditionPipeline(scheduler=scheduler, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                                transformer=transformer)


@_family("cogvideox", version=1)
def _build_cogvideox():
    """CogVideoX 2B, as in THUDM/CogVideoX-2b.

    Kept: the VAE's 8x spatial / 4x temporal compression with 16 latent
    channels and its scaling factor, the transformer's 2x2 patch with 3D
    sin-cos positions (recomputed for sizes other than 720x480), T5 prompts of
    226 tokens, the v-prediction DDIM scheduler with zero-SNR betas. Its
    latents are frame-major: (batch, frames, channels, height, width).
    """
    import torch
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXPipeline,
        CogVideoXTransformer3DModel,
    )
    tokenizer = _train_t5_tokenizer(model_max_length=226)
    torch.manual_seed(0)
    text_encoder = _t5(tokenizer)
    torch.manual_seed(0)
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), latent_channels=16,
        layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4, scaling_factor=1.15258426,
        sample_height=480, sample_width=720,
    )
    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=1, attention_head_dim=16, in_channels=16, out_channels=16, time_embed_dim=8,
        text_embed_dim=TEXT_DIM, num_layers=1, sample_width=90, sample_height=60, sample_frames=49,
        patch_size=2, temporal_compression_ratio=4, max_text_seq_length=226,
    )
    scheduler = CogVideoXDDIMScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, clip_sample=False,
        num_train_timesteps=1000, prediction_type="v_prediction", rescale_betas_zero_snr=True,
        set_alpha_to_one=True, snr_shift_scale=3.0, timestep_spacing="trailing", steps_offset=0,
    )
    return CogVideoXPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer,
                             scheduler=scheduler)
