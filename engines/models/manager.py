"""The model manager: the one object the worker asks for a loaded pipeline.

It composes the parts of engines/models/, each with one job, around one lock
and one table of resident pipelines (residents.py):

* sources.py: where a model's weights come from in a profile ("default" or
  "tiny"), and whether they are on disk; folders.py: the folders themselves;
* hub.py: downloads (`weft models pull`) and what to say when they fail;
  tiny.py: building random-weight twins offline;
* loading.py: `from_pretrained` for every kind of model;
* sharing.py: reusing resident components instead of loading them twice;
* memory.py: the RAM/VRAM budget and least-recently-used eviction;
* placement.py: the device, and offloading a model too big for the GPU.

Importing this module is cheap (no torch, diffusers or transformers): the CLI
and the GUI import it to list and pull models.
"""

from __future__ import annotations

import os
import threading
import weakref
from pathlib import Path
from typing import Any

from nodes.model_catalogue import CATALOGUE, ModelSpec, get_spec
from engines.models import hub, loading, memory, placement, sharing, sources, tiny
from engines.models.folders import default_models_dir, default_tiny_dir
from engines.models.quiet import quiet_libraries
from engines.models.residents import Key, Residents


class ModelManager:
    """Resident diffusers pipelines, by catalogue model id.

    `device` defaults to "cuda" when a GPU is visible, else "cpu"; it is
    resolved on first load so that constructing a manager imports no torch.

    `ram_budget` / `vram_budget` (bytes) bound the weights kept resident in
    CPU memory and on the GPU (None: no RAM bound; 90% of the GPU). `gpu`
    holds the load-time GPU options (engines/accel/gpu.py), all off by default.
    """

    def __init__(
        self,
        profile: str = "default",
        models_dir: Path | None = None,
        tiny_dir: Path | None = None,
        device: str | None = None,
        *,
        ram_budget: int | None = None,
        vram_budget: int | None = None,
        gpu: Any = None,
    ) -> None:
        if profile not in sources.PROFILES:
            raise ValueError(f"Unknown model profile {profile!r}; use one of: {', '.join(sources.PROFILES)}.")
        self.profile = profile
        self.models_dir = Path(models_dir) if models_dir is not None else default_models_dir()
        self.tiny_dir = Path(tiny_dir) if tiny_dir is not None else default_tiny_dir()
        self._device = device
        self._residents = Residents()
        self.ram_budget = memory.parse_bytes(
            ram_budget if ram_budget is not None else os.environ.get("WEFT_RAM_BUDGET"))
        self._vram_budget = memory.parse_bytes(
            vram_budget if vram_budget is not None else os.environ.get("WEFT_VRAM_BUDGET"))
        self._gpu = gpu
        _MANAGERS.add(self)
        # One load at a time: two nodes asking for the same model at once
        # must share one copy, not race to load two.
        self._lock = threading.RLock()

    # ---- what is where -----------------------------------------------------------

    def spec(self, model_id: str) -> ModelSpec:
        return get_spec(model_id)

    def display_title(self, model_id: str) -> str:
        """The model's title as a user should see it in this profile."""
        return sources.display_title(get_spec(model_id), self.profile)

    def local_folder(self, model_id: str) -> Path:
        """The folder this profile loads `model_id` from when it is on disk."""
        return sources.local_folder(get_spec(model_id), self.profile, self.models_dir, self.tiny_dir)

    def source_folder(self, model_id: str) -> Path | None:
        """The diffusers folder `model_id` loads from in this profile, or None when it is not on disk."""
        return self._source_folder(get_spec(model_id))

    def is_installed(self, model_id: str) -> bool:
        """Whether `pipeline(model_id)` can load without downloading anything.

        Tiny: the twin has been built. Default: a complete copy is in the
        models folder or in the Hugging Face cache. Imports no torch.
        """
        return sources.is_installed(get_spec(model_id), self.profile, self.models_dir, self.tiny_dir)

    def _source_folder(self, spec: ModelSpec) -> Path | None:
        return sources.source_folder(spec, self.profile, self.models_dir, self.tiny_dir)

    # ---- device and options ------------------------------------------------------

    @property
    def device(self) -> str:
        if self._device is None:
            self._device = placement.choose_device()
        return self._device

    @property
    def gpu(self) -> Any:
        if self._gpu is None:
            from engines.accel.gpu import GpuOptions

            self._gpu = GpuOptions.from_env()
        return self._gpu

    @property
    def fingerprint(self) -> str:
        """What besides the profile changes the numbers renders produce ("" by default)."""
        return self.gpu.fingerprint() if self._gpu is not None or _gpu_env_set() else ""

    def weights_fingerprint(self, model_id: str) -> str:
        """A fingerprint of the weights ``pipeline(model_id)`` loads in this profile (names, sizes,
        mtimes and safetensors headers of its folder; engines/models/fingerprint.py), for cache
        keys: other weights under the same id never match a result made with these. ``ABSENT``
        when no folder holds them (yet). The tiny profile builds its twin's folder first."""
        from engines.models.fingerprint import file_fingerprint, folder_fingerprint

        spec = get_spec(model_id)
        if self.profile == "tiny" and not spec.shipped:
            return folder_fingerprint(self.ensure_tiny(model_id))
        folder = folder_fingerprint(self._source_folder(spec))
        if not spec.user_files:
            return folder
        # A registered single file: it and the base folder its other components come from.
        return "+".join([folder, *(f"{name}={file_fingerprint(Path(path))}" for name, path in spec.user_files)])

    @property
    def vram_budget(self) -> int | None:
        if self._vram_budget is None and self.device.startswith("cuda"):
            self._vram_budget = placement.default_vram_budget(self.device)
        return self._vram_budget

    # ---- loading -----------------------------------------------------------------

    @property
    def evictions(self) -> list[str]:
        """Models evicted to stay within budget, oldest first (for stats and tests)."""
        return self._residents.evictions

    def is_resident(self, model_id: str) -> bool:
        return (model_id, self.profile) in self._residents.pipelines

    def resident(self) -> list[str]:
        """Ids of the models loaded now."""
        return [model_id for model_id, _ in self._residents.pipelines]

    def pipeline(self, model_id: str) -> Any:
        """The loaded diffusers pipeline for `model_id`, on this manager's device.

        Loaded on first use and kept: later calls return the same object.
        Raises `UnknownModelError` for ids not in the catalogue and
        `ModelNotAvailableError` when the weights are missing and cannot be
        downloaded.
        """
        spec = get_spec(model_id)
        key = (model_id, self.profile)
        with self._lock:
            pipe = self._residents.use(key)
            if pipe is not None:
                return pipe
            same_weights = sharing.share_source(self._residents, spec, self.profile)
            if same_weights is None:
                # Make room first: loading next to pipelines that must go anyway
                # would need both in memory at once.
                self._make_room(memory.estimate_bytes(self._source_folder(spec)), keep=())
                pipe = self._load(spec)
            else:
                pipe = loading.from_pipe(spec, same_weights, self.profile)
                source_key = (getattr(same_weights, "_weft_model_id", ""), self.profile)
                self._residents.placement[key] = self._residents.placement.get(source_key, "cpu")
            self._residents.pipelines[key] = pipe
            self._residents.placement.setdefault(key, "gpu" if self.device.startswith("cuda") else "cpu")
            self._make_room(0, keep=(key,))
            return pipe

    def _load(self, spec: ModelSpec) -> Any:
        quiet_libraries()
        import diffusers

        pipeline_class = getattr(diffusers, spec.pipeline_class)
        gpu = self.gpu
        gpu.check()
        kwargs: dict[str, Any] = {"dtype": gpu.dtype(loading.dtypes(spec, self.device))}
        if spec.shipped:
            source: Path | None = sources.shipped_source(spec)
        elif self.profile == "tiny":
            source = tiny.ensure_built(spec.family, self.tiny_dir / spec.id)
        else:
            source = self._source_folder(spec)
        # Components byte-identical to a resident pipeline's (the same UMT5
        # text encoder and VAE in Wan's T2V and VACE repos) are passed in, not
        # loaded twice.
        identities = sharing.component_identities(source) if source is not None else {}
        # A registered model's own files are not the base folder's components: never
        # shared from, nor recorded as, the base's (the plain model would get them).
        identities = {k: v for k, v in identities.items() if k not in dict(spec.user_files)}
        shared = sharing.shared_components(self._residents, identities)
        pipe = loading.from_pretrained(spec, pipeline_class, source, profile=self.profile,
                                       models_dir=self.models_dir, gpu=gpu, shared=shared, kwargs=kwargs)
        pipe._weft_components = identities
        loading.tag(pipe, spec.id, self.profile)
        placement.place(pipe, (spec.id, self.profile), self._residents, self.device, self.vram_budget,
                        self._free_memory)
        gpu.after_load(pipe)
        # Progress reaches the artist through step callbacks; tqdm bars from a
        # worker process would only clutter the terminal.
        pipe.set_progress_bar_config(disable=True)
        return pipe

    # ---- memory ------------------------------------------------------------------

    def memory_usage(self) -> dict[str, int]:
        """Bytes of weights held by resident pipelines, by where they are (shared parts once)."""
        return memory.weights_bytes(list(self._residents.pipelines.values()))

    def placement(self, model_id: str) -> str | None:
        return self._residents.placement.get((model_id, self.profile))

    def _make_room(self, extra: int, keep: tuple[Key, ...]) -> None:
        # The VRAM budget binds only once a load has put this manager on a GPU.
        on_gpu = self._device is not None and self._device.startswith("cuda")
        memory.make_room(self._residents, extra, keep, self.ram_budget, self.vram_budget if on_gpu else None,
                         self._free_memory)

    def relieve(self, pipe: Any) -> str | None:
        """After an out-of-memory error: evict the others, else place `pipe` one step lighter.

        Returns what was done, or None when nothing lighter is left.
        """
        with self._lock:
            if not any(p is pipe for p in self._residents.pipelines.values()):
                return None  # another manager's: leave this one's device unresolved
            return placement.relieve(self._residents, pipe, self.device, self._free_memory)

    # ---- fetching and building ---------------------------------------------------

    def pull(self, model_id: str, progress: hub.ProgressCallback | None = None) -> Path:
        """Download `model_id` into `<models_dir>/<model_id>` and return that folder.

        Resumes an interrupted download. `progress(done, total)` is called as
        bytes arrive (older huggingface_hub versions report files instead of
        bytes). In the tiny profile this builds the twin instead.
        """
        spec = get_spec(model_id)
        if spec.shipped:  # nothing to download: check what shipped instead
            path = sources.shipped_source(spec)
            if progress is not None:
                progress(1, 1)
            return path
        if self.profile == "tiny":
            path = self.ensure_tiny(model_id)
            if progress is not None:
                progress(1, 1)
            return path
        if spec.registered:
            # Your own weights are already here; a single file needs its base's other components.
            if spec.user_folder:
                return Path(spec.user_folder)
            return self.pull(spec.base, progress)
        return hub.download(spec, self.models_dir / model_id, progress)

    def ensure_tiny(self, model_id: str) -> Path:
        """The tiny twin's folder for `model_id`, built first if missing or stale
        (a shipped model has no twin: its own folder)."""
        spec = get_spec(model_id)
        if spec.shipped:
            return sources.shipped_source(spec)
        return tiny.ensure_built(spec.family, self.tiny_dir / model_id)

    def make_tiny(self, folder: Path | None = None) -> dict[str, Path]:
        """Build the twin of every catalogue model under `<folder>/<model id>`.

        `folder` defaults to this manager's tiny dir. Twins already built and
        current are kept. Returns {model id: folder}.
        """
        root = Path(folder) if folder is not None else self.tiny_dir
        buildable = set(tiny.tiny_families())
        return {
            spec.id: tiny.ensure_built(spec.family, root / spec.id)
            for spec in CATALOGUE.values()
            if spec.family in buildable and not spec.registered
        }

    # ---- releasing ---------------------------------------------------------------

    def evict(self, model_id: str) -> bool:
        """Drop `model_id`'s pipeline and free its memory; False if it was not loaded."""
        with self._lock:
            pipe = self._residents.drop((model_id, self.profile))
        if pipe is None:
            return False
        del pipe
        self._free_memory()
        return True

    def clear(self) -> None:
        """Drop every resident pipeline."""
        with self._lock:
            self._residents.clear()
        self._free_memory()

    def _free_memory(self) -> None:
        memory.free_memory(self._device)


_MANAGERS: "weakref.WeakSet[ModelManager]" = weakref.WeakSet()


def relieve_memory(pipe: Any) -> str | None:
    """Ask the manager that owns `pipe` to free GPU memory for it (see ModelManager.relieve)."""
    for manager in list(_MANAGERS):
        done = manager.relieve(pipe)
        if done is not None:
            return done
    return None


def _gpu_env_set() -> bool:
    return any(os.environ.get(name) for name in ("WEFT_PRECISION", "WEFT_COMPILE", "WEFT_ATTENTION",
                                                 "WEFT_QUANTIZE", "WEFT_VAE_CHANNELS_LAST"))
