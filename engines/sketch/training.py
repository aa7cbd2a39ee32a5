"""What every sketch-model training program shares: resumable runs, a loss log, a progress bar.

A run lives in one folder:

    checkpoint.pt   the models' and optimisers' state, the step, the random
                    generators' states (torch and numpy): a stopped run
                    continues exactly where it was, with the same batches
    loss.csv        step, seconds of training so far, and the losses
    scores.csv      what an evaluation measured (the judge's score) by step
    log.txt         what the run printed

Checkpoints are written atomically (a temporary file renamed over the old
one), so a run killed while saving keeps its previous checkpoint.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np


class TrainingRun:
    """One training run's folder: checkpoint, logs and progress.

    `objects` maps names to things with `state_dict()` / `load_state_dict()`
    (models, optimisers, schedulers); they are saved and restored together.
    """

    def __init__(self, folder: str | Path, objects: Mapping[str, Any], *, total_steps: int,
                 rng: np.random.Generator, title: str = "training"):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.objects = dict(objects)
        self.total_steps = total_steps
        self.rng = rng
        self.title = title
        self.step = 0
        self.seconds = 0.0  # training time over every session of this run
        self.extra: dict[str, Any] = {}
        self._started = time.monotonic()
        self._seconds_at_start = 0.0

    # --- state ---------------------------------------------------------------------

    @property
    def checkpoint_path(self) -> Path:
        return self.folder / "checkpoint.pt"

    def resume(self) -> bool:
        """Load the checkpoint if there is one; True when the run continues an earlier one."""
        import torch

        if not self.checkpoint_path.exists():
            return False
        state = torch.load(self.checkpoint_path, map_location="cpu", weights_only=False)
        for name, obj in self.objects.items():
            obj.load_state_dict(state["objects"][name])
        self.step = int(state["step"])
        self.seconds = float(state["seconds"])
        self.extra = dict(state.get("extra", {}))
        torch.set_rng_state(state["torch_rng"])
        self.rng.bit_generator.state = state["numpy_rng"]
        self._seconds_at_start = self.seconds
        self._started = time.monotonic()
        self.log(f"resumed at step {self.step} after {self.seconds / 60:.1f} min of training")
        return True

    def save(self) -> None:
        import torch

        self.seconds = self.elapsed()
        state = {
            "objects": {name: obj.state_dict() for name, obj in self.objects.items()},
            "step": self.step,
            "seconds": self.seconds,
            "extra": self.extra,
            "torch_rng": torch.get_rng_state(),
            "numpy_rng": self.rng.bit_generator.state,
        }
        tmp = self.checkpoint_path.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, self.checkpoint_path)

    def elapsed(self) -> float:
        return self._seconds_at_start + (time.monotonic() - self._started)

    # --- logs ----------------------------------------------------------------------

    def log(self, message: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {self.title}: {message}"
        print(line, flush=True)
        with open(self.folder / "log.txt", "a") as f:
            f.write(line + "\n")

    def _append(self, name: str, row: Mapping[str, Any]) -> None:
        path = self.folder / name
        new = not path.exists()
        with open(path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)

    def record_loss(self, **losses: float) -> None:
        self._append("loss.csv", {"step": self.step, "seconds": round(self.elapsed(), 1),
                                  **{k: round(float(v), 6) for k, v in losses.items()}})

    def record_score(self, **scores: float) -> None:
        self._append("scores.csv", {"step": self.step, "seconds": round(self.elapsed(), 1),
                                    **{k: round(float(v), 4) for k, v in scores.items()}})
        self.log(f"step {self.step}: " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))

    # --- the loop ------------------------------------------------------------------

    def steps(self, *, save_every: int = 100, minutes: float | None = None) -> Iterator[int]:
        """Yield the remaining step numbers, showing progress and saving every `save_every`.

        `minutes` stops early (with a checkpoint) after that much wall time in
        this session, so a run can be spread over several sessions.
        """
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        session_start = time.monotonic()
        columns = (TextColumn(f"{self.title}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[loss]}"))
        with Progress(*columns, refresh_per_second=1, transient=False) as bar:
            task = bar.add_task(self.title, total=self.total_steps, completed=self.step, loss="")
            self._bar = (bar, task)
            while self.step < self.total_steps:
                yield self.step
                self.step += 1
                bar.update(task, completed=self.step)
                if self.step % save_every == 0 or self.step == self.total_steps:
                    self.save()
                if minutes is not None and time.monotonic() - session_start > minutes * 60:
                    self.save()
                    self.log(f"stopped at step {self.step} (time limit); run again to continue")
                    break
            self._bar = None

    def show_loss(self, text: str) -> None:
        bar = getattr(self, "_bar", None)
        if bar:
            bar[0].update(bar[1], loss=text)


def word_tokenizer(vocabulary, *, max_length: int, replacements: tuple[tuple[str, str], ...] = ()):
    """A word-level tokenizer over a sketch vocabulary: lower-cased, punctuation dropped, then `replacements`
    (e.g. "gray" -> "grey"), one token a word, "</s>" at the end; any other word is "<unk>"."""
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    words = ["<pad>", "</s>", "<unk>"] + sorted(vocabulary)
    tok = Tokenizer(WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.normalizer = normalizers.Sequence([normalizers.Lowercase(), normalizers.Replace(Regex(r"[^a-z0-9]+"), " ")]
                                          + [normalizers.Replace(a, b) for a, b in replacements])
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                   model_max_length=max_length)


def load_recipe(recipe_class, run_dir: Path, overrides: list[str]):
    """The run's recipe: the one recorded in RUN_DIR/recipe.json, or the defaults with FIELD=VALUE
    overrides (a tuple field takes comma-separated integers), recorded there for the next session."""
    import json
    from dataclasses import asdict

    recipe_file = Path(run_dir) / "recipe.json"
    fields = {}
    for item in overrides:
        k, v = item.split("=", 1)
        default = getattr(recipe_class(), k)
        fields[k] = tuple(int(x) for x in v.split(",")) if isinstance(default, tuple) else type(default)(v)
    if recipe_file.exists():
        recorded = json.loads(recipe_file.read_text())
        recipe = recipe_class(**{k: tuple(v) if isinstance(v, list) else v for k, v in recorded.items()})
        # A run continues with the recipe it started with: a different --set is refused,
        # never silently ignored (its checkpoints were made with the recorded one).
        clash = {k: v for k, v in fields.items() if getattr(recipe, k) != v}
        if clash:
            said = ", ".join(f"{k}={v} (the run has {getattr(recipe, k)})" for k, v in clash.items())
            raise SystemExit(f"{run_dir} was started with another recipe: {said}; use a new run folder")
        return recipe
    recipe = recipe_class(**fields)
    recipe_file.parent.mkdir(parents=True, exist_ok=True)
    recipe_file.write_text(json.dumps(asdict(recipe), indent=1))
    return recipe


def card_status(best: float, prompts: int) -> str:
    """A model card's status paragraph, from the judge's best score during training (both sketch models)."""
    if best >= 0.9:
        return (f"**Status: at the bar.** The judge agreed with {best:.0%} of {prompts} fresh prompts during "
                "training (Weft's bar is 90%); the test suite checks 30 others on these weights.")
    return (f"**Status: under the bar.** Weft's bar for a sketch model is that the judge agrees with 90% of "
            f"fresh prompts; during training these weights reached {best:.0%} of {prompts} (table below).")


def pretrain_text_encoder(text_encoder, tokenizer, captions: list[str], labels: Mapping[str, np.ndarray], *,
                          folder: Path, steps: int, batch: int = 64, lr: float = 3e-3, max_length: int = 32,
                          title: str = "text encoder", minutes: float | None = None) -> dict[str, float]:
    """Teach a fresh text encoder what the captions say before the generator learns from it.

    Every real token's output must predict every attribute of the scene (`labels`: one
    integer class per caption and attribute, e.g. the background colour, the first
    shape's motion): a linear head per attribute reads each token on its own. So
    whichever tokens a cross-attention looks at, it finds the whole scene with each
    word's role resolved ("blue" of "on a blue background" is the background, not a
    shape). Learnt through the diffusion loss alone, that binding was the slow part:
    after 1000 steps sketch-video painted the whole frame in the shape's colour.
    Real text-to-video models get the same from a pretrained T5; this is ours, in a
    minute. Resumable like every stage; returns the held-out accuracy per attribute.
    """
    import json

    import torch

    folder = Path(folder)
    done = folder / "done.json"
    if done.exists():
        text_encoder.load_state_dict(torch.load(folder / "text_encoder.pt", map_location="cpu"))
        return json.loads(done.read_text())
    names = sorted(labels)
    width = text_encoder.config.d_model
    heads = torch.nn.ModuleDict({n: torch.nn.Linear(width, int(labels[n].max()) + 1) for n in names})
    params = [*text_encoder.parameters(), *heads.parameters()]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    rng = np.random.default_rng(11)
    held = np.arange(len(captions)) % 10 == 0  # every tenth caption is kept out to measure
    train_idx, test_idx = np.flatnonzero(~held), np.flatnonzero(held)
    run = TrainingRun(folder, {"text_encoder": text_encoder, "heads": heads, "opt": opt}, total_steps=steps,
                      rng=rng, title=title)
    run.resume()

    def loss_and_accuracy(idx):
        tokens = tokenizer([captions[i] for i in idx], padding="max_length", max_length=max_length,
                           truncation=True, return_tensors="pt")
        mask = tokens.attention_mask.bool()
        out = text_encoder(tokens.input_ids, tokens.attention_mask).last_hidden_state[mask]  # (real tokens, width)
        owner = torch.arange(len(idx))[:, None].expand_as(mask)[mask]
        loss, right = 0.0, {}
        for n in names:
            target = torch.from_numpy(labels[n][idx]).long()[owner]
            logits = heads[n](out)
            loss = loss + torch.nn.functional.cross_entropy(logits, target)
            right[n] = (logits.argmax(-1) == target).float().mean().item()
        return loss / len(names), right

    for step in run.steps(save_every=100, minutes=minutes):
        text_encoder.train()
        loss, _ = loss_and_accuracy(rng.choice(train_idx, batch))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 10 == 0:
            run.record_loss(loss=loss.item())
            run.show_loss(f"loss {loss.item():.4f}")
    if run.step < steps:
        raise SystemExit(0)  # stopped by the time limit: run again to continue
    text_encoder.eval()
    with torch.no_grad():
        _, right = loss_and_accuracy(test_idx[:512])
    torch.save(text_encoder.state_dict(), folder / "text_encoder.pt")
    done.write_text(json.dumps({n: round(v, 4) for n, v in right.items()}))
    run.log("text encoder: every token's accuracy on held-out captions: "
            + ", ".join(f"{n} {v:.0%}" for n, v in right.items()))
    return right
