"""The model manager: the one object the worker asks for a loaded pipeline.

It composes the parts of engines/models/, each with one job, around one lock
and one table of resident pipelines (residents.py); loading with
`from_pretrained` and sharing resident components are still its own:

* sources.py: where a model's weights come from in a profile ("default" or
  "tiny"), and whether they are on disk; folders.py: the folders themselves;
* hub.py: downloads (`weft models pull`) and what to say when they fail;
  tiny.py: building random-weight twins offline;
* memory.py: the RAM/VRAM budget and least-recently-used eviction;
* placement.py: the device, and offloading a model too big for the GPU.

Importing this module is cheap (no torch, diffusers or transformers): the CLI
and the GUI import it to list and pull models.
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from pathlib import Path
from typing import Any

from nodes.model_catalogue import CATALOGUE, ModelSpec, get_spec
from engines.models import hub, memory, placement, sources, tiny
from engines.models.folders import default_models_dir, default_tiny_dir, is_complete_pipeline
from engines.models.quiet import quiet_libraries
from engines.models.residents import Key, Residents
from engines.models.sources import ModelNotAvailableError


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
            same_weights = self._share_source(spec)
            if same_weights is None:
                # Make room first: loading next to pipelines that must go anyway
                # would need both in memory at once.
                self._make_room(memory.estimate_bytes(self._source_folder(spec)), keep=())
                pipe = self._load(spec)
            else:
                pipe = self._from_pipe(spec, same_weights)
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
        kwargs: dict[str, Any] = {"dtype": gpu.dtype(self._dtypes(spec))}
        if spec.shipped:
            source: Path | None = sources.shipped_source(spec)
        elif self.profile == "tiny":
            source = tiny.ensure_built(spec.family, self.tiny_dir / spec.id)
        else:
            source = self._source_folder(spec)
        # Components byte-identical to a resident pipeline's (the same UMT5
        # text encoder and VAE in Wan's T2V and VACE repos) are passed in, not
        # loaded twice.
        identities = _component_identities(source) if source is not None else {}
        shared = self._shared_components(identities)
        if spec.shipped or self.profile == "tiny":
            # Small enough to run as they are: no quantisation, no Hub.
            pipe = pipeline_class.from_pretrained(source, local_files_only=True, **shared, **kwargs)
        elif spec.registered:
            pipe = self._load_registered(spec, pipeline_class, source, shared, kwargs)
        else:
            quantization = gpu.quantization_config()
            if quantization is not None:
                kwargs["quantization_config"] = quantization
            else:
                kwargs.update(shared)  # a quantised load makes its own copies
            pipe = self._load_default(spec, pipeline_class, kwargs)
        pipe._weft_components = identities
        _tag(pipe, spec.id, self.profile)
        placement.place(pipe, (spec.id, self.profile), self._residents, self.device, self.vram_budget,
                        self._free_memory)
        gpu.after_load(pipe)
        # Progress reaches the artist through step callbacks; tqdm bars from a
        # worker process would only clutter the terminal.
        pipe.set_progress_bar_config(disable=True)
        return pipe

    def _share_key(self, spec: ModelSpec) -> tuple[str, str]:
        # Tiny twins of one family are built identically; real ones share
        # weights when they come from the same repo; a shipped model is its own.
        if spec.shipped:
            return (self.profile, "shipped:" + spec.id)
        if spec.registered and self.profile != "tiny":
            return (self.profile, "registered:" + spec.id)
        return (self.profile, spec.family if self.profile == "tiny" else spec.repo_id)

    def _share_source(self, spec: ModelSpec) -> Any:
        """A resident pipeline with the same weights as `spec`, to share components with."""
        wanted = self._share_key(spec)
        for (model_id, _profile), pipe in reversed(self._residents.pipelines.items()):
            if self._share_key(get_spec(model_id)) == wanted:
                return pipe
        return None

    def _shared_components(self, identities: dict[str, str]) -> dict[str, Any]:
        """Resident components with the same identity as the ones about to load, by name."""
        import torch

        found: dict[str, Any] = {}
        for key, pipe in self._residents.pipelines.items():
            if self._residents.placement.get(key) not in ("gpu", "cpu"):
                continue  # an offloaded pipeline moves its modules around
            theirs = getattr(pipe, "_weft_components", {})
            for name, identity in identities.items():
                module = getattr(pipe, name, None)
                # Weights only: a scheduler or tokenizer costs nothing to load
                # and a scheduler carries per-run state.
                if (name not in found and isinstance(module, torch.nn.Module)
                        and theirs.get(name) == identity):
                    found[name] = module
        return found

    def _from_pipe(self, spec: ModelSpec, source: Any) -> Any:
        import diffusers

        pipeline_class = getattr(diffusers, spec.pipeline_class)
        pipe = pipeline_class.from_pipe(source)
        pipe._weft_components = getattr(source, "_weft_components", {})
        _tag(pipe, spec.id, self.profile)
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

    def _load_default(self, spec: ModelSpec, pipeline_class: Any, kwargs: dict[str, Any]) -> Any:
        from huggingface_hub.errors import HfHubHTTPError

        folder = self.models_dir / spec.id
        if is_complete_pipeline(folder):
            # A pulled copy: a broken file here is not "missing", so let the
            # real error through rather than advise a download that exists.
            return pipeline_class.from_pretrained(folder, local_files_only=True, **kwargs)
        try:
            # From the Hub cache; downloads into it when online. Offline, say
            # so up front: diffusers would otherwise try the network first.
            return pipeline_class.from_pretrained(spec.repo_id, local_files_only=hub.hub_offline(), **kwargs)
        except (OSError, HfHubHTTPError) as exc:
            # diffusers reports a missing cache entry, no network and a gated
            # repo alike as OSError; huggingface_hub's HTTP errors for the rest.
            message = hub.not_available_message(spec, self.models_dir / spec.id, exc)
            raise ModelNotAvailableError(message) from exc

    def _load_registered(self, spec: ModelSpec, pipeline_class: Any, source: Path | None,
                         shared: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        """The artist's own weights: a whole folder, or single files over the base model's folder."""
        base = get_spec(spec.base)
        if source is None:
            if spec.user_folder:
                raise ModelNotAvailableError(f"{spec.title} ({spec.id}): its folder {spec.user_folder} is gone or "
                                             "incomplete (weft models add it again, or weft models remove "
                                             f"{spec.id}).")
            raise ModelNotAvailableError(
                f"{spec.title} ({spec.id}) runs with the text encoder, VAE and configs of {base.title} "
                f"({base.id}), which is not on this machine.\n"
                f"Fetch it with: weft models pull {base.id}")
        if spec.user_folder:
            return pipeline_class.from_pretrained(source, local_files_only=True, **shared, **kwargs)
        import diffusers

        index = json.loads((source / "model_index.json").read_text(encoding="utf-8"))
        dtype = kwargs["dtype"]
        components = dict(shared)
        for name, path in spec.user_files:
            if not Path(path).is_file():
                raise ModelNotAvailableError(f"{spec.title} ({spec.id}): {path} is gone (weft models add it again, "
                                             f"or weft models remove {spec.id}).")
            component_class = getattr(diffusers, index[name][1])
            component_dtype = dtype.get(name, dtype.get("default")) if isinstance(dtype, dict) else dtype
            # The file's tensors, renamed from the original layout by diffusers, in the
            # base's own config for that component (no Hub: the config is on disk).
            components[name] = component_class.from_single_file(
                path, config=str(source), subfolder=name, local_files_only=True, torch_dtype=component_dtype)
        return pipeline_class.from_pretrained(source, local_files_only=True, **components, **kwargs)

    def _dtypes(self, spec: ModelSpec) -> Any:
        import torch

        if spec.shipped:
            # A few million parameters, stored in float16 and trained in float32:
            # float32 costs nothing here and keeps the results the judges saw.
            return torch.float32
        if self.device.startswith("cuda"):
            # bfloat16 halves memory and keeps float32's range; float16 is
            # known to overflow in T5-family text encoders like these.
            dtypes = {"default": torch.bfloat16}
            dtypes.update({name: torch.float32 for name in spec.keep_fp32})
            return dtypes
        # CPUs are slow in half precision and tiny twins are tested in float32.
        return torch.float32

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


def _tag(pipe: Any, model_id: str, profile: str) -> None:
    # Lets engines/accel find the model's title and its MagCache ratios.
    pipe._weft_model_id = model_id
    pipe._weft_profile = profile


_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth", ".ckpt")
_HASH_LIMIT = 256 << 20  # weight files above this are identified by the Hub's hashes only


def _component_identities(folder: Path) -> dict[str, str]:
    """{component name: identity} for the components of a pipeline folder.

    Two components with one identity hold the same bytes. Weight files are
    identified without reading them where the Hub already hashed them: a Hub
    cache snapshot links each file to a blob named by its sha256; a `--local-dir`
    download keeps the etag (the sha256 of LFS files) in its .cache metadata.
    Small files are hashed. A component with a large file of unknown hash has
    no identity and is never shared.
    """
    import hashlib

    try:
        index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    identities: dict[str, str] = {}
    for name, value in index.items():
        part = folder / name
        if name.startswith("_") or not isinstance(value, list) or not part.is_dir():
            continue
        digest = hashlib.sha256(json.dumps(value).encode())
        for file in sorted(p for p in part.rglob("*") if p.is_file()):
            identity = _file_identity(folder, file)
            if identity is None:
                break
            digest.update(f"{file.relative_to(part)}={identity};".encode())
        else:
            identities[name] = digest.hexdigest()
    return identities


def _file_identity(root: Path, file: Path) -> str | None:
    import hashlib

    if file.is_symlink() and "blobs" in Path(os.readlink(file)).parts:
        return Path(os.readlink(file)).name
    metadata = root / ".cache" / "huggingface" / "download" / (str(file.relative_to(root)) + ".metadata")
    if file.suffix in _WEIGHT_SUFFIXES and metadata.is_file():
        lines = metadata.read_text(encoding="utf-8").splitlines()
        if len(lines) >= 2 and len(lines[1].strip()) == 64:
            return lines[1].strip()
    if file.stat().st_size > _HASH_LIMIT:
        return None
    return hashlib.sha256(file.read_bytes()).hexdigest()
