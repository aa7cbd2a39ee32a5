"""Scoring a set of sketch clips against what their prompts asked: accuracy and confusion tables.

Used by the training program (the judge's score as training goes), the judge
tests (the 90% bar) and bench/sketch_judge.py (the tables in the notes).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from engines.sketch import world
from engines.sketch.judge_video import Verdict, judge


@dataclass
class VideoScorecard:
    rows: list[tuple[world.Scene, Verdict]] = field(default_factory=list)

    def add(self, scene: world.Scene, frames: np.ndarray) -> Verdict:
        verdict = judge(frames)
        self.rows.append((scene, verdict))
        return verdict

    def __len__(self) -> int:
        return len(self.rows)

    def accuracy(self) -> float:
        """Clips whose colours, background and every shape's motion are right."""
        return sum(v.matches(s) for s, v in self.rows) / max(1, len(self.rows))

    def background_accuracy(self) -> float:
        """Clips whose background is the asked-for colour (the first thing a generator learns)."""
        return sum(v.background == s.background for s, v in self.rows) / max(1, len(self.rows))

    def colour_accuracy(self) -> float:
        ok = sum(v.background == s.background and v.colours() == {x.colour for x in s.shapes} for s, v in self.rows)
        return ok / max(1, len(self.rows))

    def shape_accuracy(self) -> float:
        """Clips where every asked-for shape is there and is of the asked-for kind."""
        ok = sum(all((seen := v.find(x.colour)) is not None and seen.shape == x.shape for x in s.shapes)
                 for s, v in self.rows)
        return ok / max(1, len(self.rows))

    def motion_confusion(self) -> Counter[tuple[str, str]]:
        """(asked, seen) for every asked-for shape; seen is 'missing' when its colour is absent."""
        out: Counter[tuple[str, str]] = Counter()
        for scene, verdict in self.rows:
            for shape in scene.shapes:
                seen = verdict.find(shape.colour)
                out[(shape.motion, seen.motion if seen else "missing")] += 1
        return out

    def failures(self) -> list[str]:
        return [f"{s.caption()!r}: {'; '.join(v.problems(s))}" for s, v in self.rows if not v.matches(s)]

    def report(self) -> str:
        lines = [f"clips {len(self)}: all right {self.accuracy():.0%}, background {self.background_accuracy():.0%}, "
                 f"colours and background {self.colour_accuracy():.0%}, shape kinds {self.shape_accuracy():.0%}", "",
                 "motion asked (rows) vs seen (columns):"]
        seen_names = list(world.MOTIONS) + ["missing"]
        table = self.motion_confusion()
        lines.append("| asked | " + " | ".join(seen_names) + " |")
        lines.append("|---" * (len(seen_names) + 1) + "|")
        for asked in world.MOTIONS:
            lines.append(f"| {asked} | " + " | ".join(str(table.get((asked, s), 0)) for s in seen_names) + " |")
        wrong = self.failures()
        if wrong:
            lines += ["", "wrong:"] + [f"- {w}" for w in wrong]
        return "\n".join(lines)


def judge_scenes(seed: int, count: int) -> list[world.Scene]:
    """`count` fresh scenes drawn from the grammar with their own generator seed."""
    rng = np.random.default_rng(seed)
    return [world.random_scene(rng) for _ in range(count)]
