"""Acceleration: fewer transformer evaluations, cheaper ones, and the memory to run them.

What a model node's speed switches do (see nodes/catalogue/model_node.py for
the parameters an artist sees):

* ``guidance.py``: adaptive guidance (Castillo et al.) and "guidance until X%
  of steps": once the unconditional pass is no longer needed, skip it.
* ``caches.py``: diffusers' block caches (FirstBlockCache, TaylorSeer,
  MagCache, FasterCache) on every transformer of a pipeline, for one node.
* ``magcache.py``: per-model MagCache ratios, calibrated and stored beside the
  model catalogue.
* ``lora.py``: a LoRA (typically a step-distillation one) loaded for one node.
* ``counting.py``: transformer and block evaluations, reported in stats.
* ``gpu.py``: load-time GPU options (precision, compile, attention backend,
  quantisation), all off by default.
* ``session.py``: puts the switches of one node on a pipeline and takes them
  off again, whatever happens; ``engines.diffusion.run_denoiser`` uses it.

Everything here is undone after each node: pipelines are resident and shared,
so a cache or LoRA left behind would silently change the next node's result.
"""
