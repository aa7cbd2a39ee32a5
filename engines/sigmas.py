"""Sigma schedules artists know from other tools, for flow-matching video models.

A schedule is the list of noise levels the sampler walks through, from 1
(pure noise) to 0, one entry per step plus the final 0. "default" keeps the
one the model's own scheduler computes. The others follow ComfyUI's
definitions for a flow model so that a ComfyUI user gets the same numbers:

- The model's sigma table (ComfyUI's ``ModelSamplingDiscreteFlow``): 1000
  ascending entries, entry i is the shifted time t = (i + 1) / 1000, where
  shifting maps t to shift * t / (1 + (shift - 1) * t). Computed in float32
  as there.
- simple: ``steps`` entries of that table at evenly spaced positions from the
  top, position x being the table's last entry minus int(x * 1000 / steps).
- karras: Karras et al.'s rho = 7 ramp between the table's smallest and
  largest sigma.
- beta: the table at the quantiles of a Beta(0.6, 0.6) distribution (Lee et
  al. 2024), rounded to whole positions; a position repeated is taken once.
- linear_quadratic: Movie Gen's / Mochi's schedule: linear down to 0.025
  noise over the first half of the steps, quadratic after.

Every list ends in 0. The model's own sampler (UniPC for Wan, Euler for
LTX-Video) then runs over them; ComfyUI's default pairing is the Euler
sampler, so frames match ComfyUI's where the model's scheduler is Euler.
"""

from __future__ import annotations

from typing import Any

from nodes.catalogue._video import SCHEDULES  # the names a node offers

_TABLE_SIZE = 1000


def flow_table(shift: float) -> Any:
    """The model's 1000 ascending sigmas at ``shift`` (float32 tensor)."""
    import torch

    t = (torch.arange(1, _TABLE_SIZE + 1, 1) / _TABLE_SIZE) * _TABLE_SIZE  # timesteps, as the model sees them
    t = t / _TABLE_SIZE
    if shift == 1.0:
        return t.float()
    return (shift * t / (1 + (shift - 1) * t)).float()


def schedule_sigmas(name: str, steps: int, shift: float) -> list[float] | None:
    """The sigmas of schedule ``name`` for ``steps`` steps at flow ``shift``, ending in 0;
    None for "default" (the model's own scheduler decides)."""
    if name == "default":
        return None
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    table = flow_table(shift)
    if name == "simple":
        stride = len(table) / steps
        return [float(table[-(1 + int(x * stride))]) for x in range(steps)] + [0.0]
    if name == "karras":
        import torch

        rho = 7.0
        low, high = float(table[0]) ** (1 / rho), float(table[-1]) ** (1 / rho)
        ramp = torch.linspace(0, 1, steps)
        return [float(s) for s in (high + ramp * (low - high)) ** rho] + [0.0]
    if name == "beta":
        import numpy as np
        from scipy import stats

        positions = np.rint(stats.beta.ppf(1 - np.linspace(0, 1, steps, endpoint=False), 0.6, 0.6)
                            * (len(table) - 1))
        picked, last = [], None
        for p in positions:
            if p != last:
                picked.append(float(table[int(p)]))
            last = p
        return picked + [0.0]
    if name == "linear_quadratic":
        return [s * float(table[-1]) for s in _linear_quadratic(steps)]
    raise ValueError(f"unknown sigma schedule {name!r}; one of {', '.join(SCHEDULES)}")


def _linear_quadratic(steps: int, threshold: float = 0.025) -> list[float]:
    if steps == 1:
        return [1.0, 0.0]
    linear_steps = steps // 2
    quadratic_steps = steps - linear_steps
    # Noise rises linearly by threshold / linear_steps a step, then along the
    # parabola that meets that line at linear_steps and reaches 1 at steps.
    gap = linear_steps - threshold * steps
    a = gap / (linear_steps * quadratic_steps ** 2)
    b = threshold / linear_steps - 2 * gap / quadratic_steps ** 2
    c = a * linear_steps ** 2
    noise = [i * threshold / linear_steps for i in range(linear_steps)]
    noise += [a * i ** 2 + b * i + c for i in range(linear_steps, steps)]
    return [1.0 - x for x in noise + [1.0]]


class UseSchedule:
    """For one pipeline call, make the scheduler walk ``sigmas`` instead of its own.

    Wraps the scheduler's ``set_timesteps``: after it has run (setting up its
    own state), the sigmas and timesteps are replaced by the schedule's, so
    every sampler (UniPC, Euler) steps over exactly these noise levels."""

    def __init__(self, pipe: Any, sigmas: list[float] | None):
        self.pipe, self.sigmas, self.scheduler = pipe, sigmas, None

    def __enter__(self) -> None:
        if self.sigmas is None:
            return
        import torch

        scheduler = self.scheduler = self.pipe.scheduler
        original = scheduler.set_timesteps
        sigmas = self.sigmas
        train = int(scheduler.config.get("num_train_timesteps", 1000))

        # Multistep solvers (UniPC, DPM) take log(1 - sigma): a first sigma of exactly 1 would be
        # -inf there, so they start 1e-6 below it, as their own schedules do.
        values = list(sigmas)
        if "use_flow_sigmas" in scheduler.config and abs(values[0] - 1.0) < 1e-6:
            values[0] -= 1e-6

        def set_timesteps(*args: Any, **kwargs: Any) -> None:
            original(*args, **kwargs)
            where, kind = scheduler.sigmas.device, scheduler.timesteps.dtype
            scheduler.sigmas = torch.tensor(values, dtype=torch.float32, device=where)
            scheduler.timesteps = (scheduler.sigmas[:-1] * train).to(scheduler.timesteps.device, kind)
            scheduler.num_inference_steps = len(values) - 1

        scheduler.set_timesteps = set_timesteps

    def __exit__(self, *exc: Any) -> None:
        if self.scheduler is not None:
            del self.scheduler.set_timesteps  # back to the class's own
