"""Keeping the inference libraries' chatter out of the terminal.

diffusers and transformers print progress bars and info/warning logs (the
Hub-connection retries, the deprecation notes) on every load, and a few
dependencies warn on every denoising step. They repeat and drown what matters,
so both loading a pipeline and building a tiny twin silence them first, once
per process. Errors still show.
"""

from __future__ import annotations

_QUIETED = False


def quiet_libraries() -> None:
    """Silence diffusers/transformers logs and bars and the known harmless warnings (once)."""
    global _QUIETED
    if _QUIETED:
        return
    import warnings

    import diffusers
    import transformers

    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    # torchsde's Brownian tree warns on every Stable Audio step when the
    # scheduler's sigmas touch the interval ends; harmless, and a flood.
    warnings.filterwarnings("ignore", message=r"Should have ", category=UserWarning)
    # Oobleck's weight_norm call: deprecated in torch, harmless.
    warnings.filterwarnings("ignore", message=r".*weight_norm.*deprecated", category=FutureWarning)
    _QUIETED = True
