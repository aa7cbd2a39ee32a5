"""Counting the work a denoiser really does: transformer and block evaluations.

``nfe`` counts transformer evaluations per sample: a pipeline that batches the
conditional and unconditional passes into one call (Stable Audio) and one that
makes two calls (Wan) both count 2 per guided step. The counter is the
innermost hook on the transformer, so an evaluation that adaptive guidance or
FasterCache skips is not counted.

``block_evals`` counts transformer-block evaluations, in units of one full
block for one sample. A block cache that skips whole blocks (FirstBlockCache,
MagCache) saves whole units; one that skips only attention inside a block
(TaylorSeer, FasterCache) saves the share of the block's weights that did not
run. It is a measure of the work done by the blocks' layers (their weights
times the samples that went through them), not of time: attention's cost grows
with the square of the tokens, so skipping attention saves more time than its
share of the weights says. ``block_evals_full`` is what the same transformer
evaluations would have cost with no cache.
"""

from __future__ import annotations

from typing import Any

NFE_HOOK = "weft_nfe"

# Names of the ModuleLists that hold transformer blocks (as diffusers' hooks).
BLOCK_LISTS = ("blocks", "transformer_blocks", "single_transformer_blocks", "layers",
               "temporal_transformer_blocks", "visual_transformer_blocks")


def _batch(args: tuple, kwargs: dict) -> int:
    hidden = kwargs.get("hidden_states", args[0] if args else None)
    return int(hidden.shape[0]) if hasattr(hidden, "shape") and len(hidden.shape) else 1


def transformer_blocks(model: Any) -> list[Any]:
    import torch

    found = []
    for name, child in model.named_children():
        if name in BLOCK_LISTS and isinstance(child, torch.nn.ModuleList):
            found.extend(child)
    return found


class EvaluationCounter:
    """Transformer evaluations per sample, for every transformer of a pipeline."""

    def __init__(self) -> None:
        self.count = 0
        self.per_model: dict[int, int] = {}
        self._models: list[Any] = []

    def attach(self, models: list[Any]) -> None:
        from diffusers.hooks import HookRegistry, ModelHook

        counter = self

        class _Count(ModelHook):
            def __init__(self, key: int) -> None:
                super().__init__()
                self.key = key

            def pre_forward(self, module: Any, *args: Any, **kwargs: Any) -> tuple[tuple, dict]:
                n = _batch(args, kwargs)
                counter.count += n
                counter.per_model[self.key] = counter.per_model.get(self.key, 0) + n
                return args, kwargs

        for model in models:
            registry = HookRegistry.check_if_exists_or_initialize(model)
            if registry.get_hook(NFE_HOOK) is not None:  # left by a run that died mid-way
                registry.remove_hook(NFE_HOOK, recurse=False)
            registry.register_hook(_Count(id(model)), NFE_HOOK)
            self._models.append(model)

    def detach(self) -> None:
        from diffusers.hooks import HookRegistry

        for model in self._models:
            HookRegistry.check_if_exists_or_initialize(model).remove_hook(NFE_HOOK, recurse=False)
        self._models = []


class BlockCounter:
    """Block evaluations, partial skips counted by the share of weights that ran."""

    def __init__(self) -> None:
        self.value = 0.0
        self.blocks_per_model: dict[int, int] = {}
        self._handles: list[Any] = []
        # Samples in the block call under way, read from the block's hidden
        # states: inner layers see other shapes (a (B, D) time embedding).
        self._batch = 1
        # Layers already counted in the block call under way: a layer some
        # blocks call twice (a shared norm) still counts once.
        self._seen: set[int] = set()

    def attach(self, models: list[Any]) -> None:
        for model in models:
            blocks = transformer_blocks(model)
            self.blocks_per_model[id(model)] = len(blocks)
            for block in blocks:
                self._handles.append(block.register_forward_pre_hook(self._enter_block, with_kwargs=True))
                leaves = [m for m in block.modules()
                          if not any(True for _ in m.children())
                          and any(p.numel() for p in m.parameters(recurse=False))]
                total = sum(p.numel() for m in leaves for p in m.parameters(recurse=False))
                if not total:
                    continue
                for leaf in leaves:
                    share = sum(p.numel() for p in leaf.parameters(recurse=False)) / total
                    self._handles.append(leaf.register_forward_pre_hook(self._hook(share), with_kwargs=True))

    def _enter_block(self, _module: Any, args: tuple, kwargs: dict) -> None:
        # Fires even when a cache then skips the block; only the layers that
        # really run below are counted.
        self._batch = _batch(args, kwargs)
        self._seen = set()

    def _hook(self, share: float):
        def count(module: Any, _args: tuple, _kwargs: dict) -> None:
            if id(module) not in self._seen:
                self._seen.add(id(module))
                self.value += share * self._batch
        return count

    def full(self, evaluations: EvaluationCounter) -> int:
        return sum(self.blocks_per_model.get(key, 0) * n for key, n in evaluations.per_model.items())

    def detach(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
