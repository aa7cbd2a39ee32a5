"""Weft against its peers, from the command to the finished video file.

Renders one clip with the tiny Wan 2.1 twin (the weights Weft's tests use:
random, so the video is noise; 128x128, 17 frames, 20 steps, guidance 5) on
three stacks, each run the way its users run it headless:

- Weft: ``weft render PROJECT --models tiny`` in a fresh process (cold), then
  the same command against a resident engine (``weft engine start``) for the
  changes.
- Weft, script: the same changes sent by a script that stays connected to
  that resident engine (``engines.resident.ResidentClient``, as the studio's
  connection does): what a change costs with no process started for it.
- bare diffusers: a script (``WanPipeline.from_pretrained`` + a pipeline call +
  writing the file with PyAV) in its own process with the environment this
  bench was started with; the changes go to the same live process, as to a
  notebook's kernel. It has no cache, so every change runs the pipeline again.
- ComfyUI (only with ``--comfyui PATH``): ``main.py --cpu`` serving on
  127.0.0.1, an API-format workflow POSTed to /prompt, /history polled until
  the file is written; the changes go to the same server (its own cache).

Cases, each timed until the output file exists:

- cold: nothing running, nothing cached (seed 0, MP4, 16 fps);
- seed change: seed 1;
- format change: seed 1 written as WebM (VP9) instead of MP4 (H.264);
- fps change: seed 1 at 8 fps; Wan's fps is only stamped on the file, it never
  reaches the model.

Rounds are interleaved (Weft, bare, ComfyUI, repeat) so a change in the
machine's load hits all three; the table shows medians.

    .venv/bin/python bench/peers.py [--rounds 5] [--comfyui PATH [--comfyui-python PYTHON]]

ComfyUI is no dependency of Weft. To measure it, check it out anywhere
(comfyanonymous/ComfyUI, now Comfy-Org/ComfyUI; tested at 0.3.64, commit
a125cd84) and give it a venv of its own with the torch Weft uses, keeping pip
from replacing it::

    python3 -m venv /work/comfyui-venv
    /work/comfyui-venv/bin/pip install torch==2.13.0 torchvision==0.28.0
    grep -vxE 'torch|torchvision|torchaudio' /work/comfyui/requirements.txt > /tmp/comfyui-req.txt
    /work/comfyui-venv/bin/pip install -r /tmp/comfyui-req.txt requests

then pass ``--comfyui /work/comfyui --comfyui-python /work/comfyui-venv/bin/python``.
With a CPU build of torch, the package index's torchvision (built for CUDA)
cannot load its operators and stops at import ("operator torchvision::nms does
not exist"). ComfyUI only needs its Python parts: in that venv's
torchvision/_meta_registrations.py, apply the two
``@torch.library.register_fake("torchvision::nms")`` / ``("torchvision::qnms")``
decorators only ``if torchvision.extension._has_ops()``, as every other
registration there is (or install a CPU torchvision where one can be had).
Without torchaudio ComfyUI only loses its audio nodes.

The bench writes everything ComfyUI reads into a temporary base directory
(``--base-directory``): the twin's weights converted to the single files
ComfyUI expects (models/diffusion_models, text_encoders, vae; written by
engines/models/comfy_layout.py, the converter Weft's own tests use) and one
custom node package; the checkout is not touched.

Why a custom node package: ComfyUI's stock loaders cannot load the tiny twin.
They read a model's shape from its weights with rules written for the
published checkpoints, and the twin breaks each of them:

- UNETLoader: Wan 2.1's head count is taken as width // 128 (the twin is 12
  wide with one head: 0 heads) and its text input as 4096 wide (UMT5-XXL; the
  twin's is 32);
- VAELoader: the Wan 2.1 VAE is always built 96 wide, widths [1, 2, 4, 4], 2
  residual blocks (the twin: 3 wide, [1, 1, 1, 1], none);
- CLIPLoader: a T5 is recognised by its 24th block and 4096 width, and the
  Wan text encoder is always built from the UMT5-XXL config with 32
  relative-position buckets (the twin: 2 blocks, 32 wide, 8 buckets; it is
  taken for Stable Audio's T5-base).

The package (COMFY_NODES below) has three loaders that build the same ComfyUI
classes (WanModel, WanVAE, the T5 encoder and its SentencePiece tokenizer)
with the twin's shapes and check that every weight was loaded. Everything
after them is ComfyUI's own: CLIPTextEncode, ModelSamplingSD3 (shift 3, the
twin's scheduler config), KSampler (uni_pc_bh2, simple: UniPC as diffusers
runs it, 40 model evaluations like the others), VAEDecode, CreateVideo,
SaveVideo / SaveWEBM, and its server and cache. Checked once when this was
written: in ComfyUI the converted transformer and VAE give diffusers' outputs
within 3e-6 and 2e-7; the text encoder, kept in float16 as ComfyUI does on a
CPU, within 2e-3.

Run it on a quiet machine; on a loaded one the figures mean little.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from _common import t2v_graph  # noqa: E402 (also puts the checkout on the import path)

PROMPT = "a lighthouse on a cliff in a storm, waves crashing"
NEGATIVE = "blurry"
WIDTH, HEIGHT, FRAMES, STEPS, GUIDANCE = 128, 128, 17, 20, 5.0


@dataclass(frozen=True)
class Job:
    seed: int
    fmt: str  # "mp4" (H.264) or "webm" (VP9)
    fps: int


# Each case is one change from the one before it in a round (cold first).
CASES = {
    "cold": Job(0, "mp4", 16),
    "seed change": Job(1, "mp4", 16),
    "format change (mp4 -> webm)": Job(1, "webm", 16),
    "fps change (16 -> 8)": Job(1, "mp4", 8),
}
WARM_CASES = list(CASES)[1:]
WEFT, SCRIPT = "Weft", "Weft, script"


def slug(case: str) -> str:
    """A case's name as a file name."""
    return re.sub(r"\W+", "_", case).strip("_")


def wait_for(path: Path, timeout: float = 10.0) -> None:
    """A stack that says it is done must have written its file (allowing a moment for the rename)."""
    end = time.perf_counter() + timeout
    while not (path.is_file() and path.stat().st_size > 0):
        if time.perf_counter() > end:
            raise SystemExit(f"no output file {path}")
        time.sleep(0.01)


# -- Weft -------------------------------------------------------------------------------------
def weft_round(work: Path) -> dict[str, float]:
    from nodes import project

    g = t2v_graph(width=WIDTH, height=HEIGHT, frames=FRAMES, steps=STEPS, seed=0, prompt=PROMPT)
    g.set_param("t2v", "negative_prompt", NEGATIVE)
    g.set_param("t2v", "guidance", GUIDANCE)
    g.add_node("save_video", {"filename": "peers", "format": "mp4"}, node_id="save")
    g.connect("t2v", "video", "save", "video")
    proj = work / "peers.weft"
    proj.write_text(project.dumps(g))
    weft = Path(sys.executable).with_name("weft")
    command = [str(weft)] if weft.exists() else [sys.executable, "-m", "app"]
    # Its own socket folder (no engine of the user's is reached) and an empty result cache.
    env = {**os.environ, "XDG_RUNTIME_DIR": str(work / "run"), "WEFT_CACHE_DIR": str(work / "cache-cold")}
    (work / "run").mkdir(mode=0o700)

    def render(name: str, job: Job, *, resident: bool) -> float:
        out = work / slug(name)
        t0 = time.perf_counter()
        done = subprocess.run(command + ["render", str(proj), "--models", "tiny", "--output-dir", str(out),
                                         "--set", f"t2v.seed={job.seed}", "--set", f"t2v.fps={job.fps}",
                                         "--set", f"save.format={job.fmt}"],
                              env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"weft render failed ({name}):\n{done.stderr}")
        wait_for(out / f"peers.{job.fmt}")
        elapsed = time.perf_counter() - t0
        # A change must be timed on the warm engine, never on a fresh worker it fell back to.
        if resident != ("resident engine" in done.stderr):
            raise SystemExit(f"weft render ({name}) {'did not use' if resident else 'used'} the resident engine")
        return elapsed

    times = {"cold": render("cold", CASES["cold"], resident=False)}
    # The changes: a resident engine with an empty cache of its own, warmed by the same first
    # render (untimed), as a ComfyUI server is after its first prompt.
    env["WEFT_CACHE_DIR"] = str(work / "cache-engine")
    engine = subprocess.Popen(command + ["engine", "start", "--models", "tiny"], env=env,
                              stdout=subprocess.DEVNULL, stderr=open(work / "engine.log", "w"))
    try:
        sock = work / "run" / "weft" / "engine-tiny.sock"
        end = time.perf_counter() + 120
        while not sock.exists():
            if engine.poll() is not None or time.perf_counter() > end:
                raise SystemExit(f"weft engine did not start: {(work / 'engine.log').read_text()}")
            time.sleep(0.05)
        render("warm-up", CASES["cold"], resident=True)
        for name in WARM_CASES:
            times[name] = render(name, CASES[name], resident=True)
        script = asyncio.run(script_round(work, sock, g))
    finally:
        engine.send_signal(signal.SIGINT)  # what Ctrl+C does; it stops its worker
        try:
            engine.wait(30)
        except subprocess.TimeoutExpired:
            engine.kill()
            engine.wait()
    return times, script


# The script's changes use seed 2: the same jobs as the command line's would come from the cache.
SCRIPT_CASES = {name: Job(2, job.fmt, job.fps) for name, job in CASES.items() if name != "cold"}


async def script_round(work: Path, sock: Path, graph) -> dict[str, float]:
    """The same changes sent by a Python script that stays connected to the resident engine
    (engines.resident.ResidentClient, what the studio's engine connection does): no process
    starts per change, as with a request to ComfyUI's server or a call in the bare script."""
    from engines.resident import ResidentClient
    from nodes import project

    async def render(name: str, job: Job) -> float:
        g = project.from_dict(project.to_dict(graph)).graph  # the project as saved, changed
        for assignment in (f"t2v.seed={job.seed}", f"t2v.fps={job.fps}", f"save.format={job.fmt}"):
            project.apply_override(g, assignment)
        out = work / f"script_{slug(name)}"
        t0 = time.perf_counter()
        job_id = await client.submit(project.to_dict(g), targets=["save"], output_dir=out, project_dir=work,
                                     project_name="peers")
        async for event in client.events(job_id):
            if event["event"] == "job_finished":
                if event["status"] != "ok":
                    raise SystemExit(f"the script's render failed ({name}): {event}")
                break
        wait_for(out / f"peers.{job.fmt}")
        return time.perf_counter() - t0

    async with ResidentClient(models="tiny", path=sock) as client:
        await render("warm-up", CASES["cold"])  # from the engine's cache: connects, nothing more
        return {name: await render(name, job) for name, job in SCRIPT_CASES.items()}


# -- bare diffusers ----------------------------------------------------------------------------
# A user's script: load the pipeline, then render each job read from stdin (the first is the
# command's own; later ones are edits sent to the live process, as in a notebook) and write the
# file with PyAV, in the codecs Weft and ComfyUI use (H.264 MP4, VP9 WebM).
BARE = """
import json, sys
import av, torch
from diffusers import WanPipeline
folder, out, prompt, negative, width, height, frames, steps, guidance = sys.argv[1:]
pipe = WanPipeline.from_pretrained(folder, local_files_only=True)
for line in sys.stdin:
    job = json.loads(line)
    video = pipe(prompt=prompt, negative_prompt=negative, width=int(width), height=int(height),
                 num_frames=int(frames), num_inference_steps=int(steps), guidance_scale=float(guidance),
                 generator=torch.Generator("cpu").manual_seed(job["seed"]), output_type="np").frames[0]
    path = f"{out}/{job['name']}.{job['fmt']}"
    with av.open(path, "w") as container:
        stream = container.add_stream("libx264" if job["fmt"] == "mp4" else "libvpx-vp9", rate=job["fps"])
        stream.width, stream.height, stream.pix_fmt = int(width), int(height), "yuv420p"
        for frame in (video * 255).round().astype("uint8"):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    print(path, flush=True)
"""


def bare_round(work: Path, folder: Path) -> dict[str, float]:
    t0 = time.perf_counter()
    # Its own process with the environment as it is: no Weft thread or malloc settings.
    proc = subprocess.Popen([sys.executable, "-c", BARE, str(folder), str(work), PROMPT, NEGATIVE, str(WIDTH),
                             str(HEIGHT), str(FRAMES), str(STEPS), str(GUIDANCE)],
                            env=dict(os.environ), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=open(work / "bare.log", "w"), text=True)
    times = {}
    try:
        for name, job in CASES.items():
            if name != "cold":
                t0 = time.perf_counter()
            proc.stdin.write(json.dumps({"name": slug(name), "seed": job.seed, "fmt": job.fmt, "fps": job.fps}) + "\n")
            proc.stdin.flush()
            line = proc.stdout.readline().strip()
            if not line:
                raise SystemExit(f"bare diffusers failed ({name}):\n{(work / 'bare.log').read_text()}")
            wait_for(Path(line))
            times[name] = time.perf_counter() - t0
    finally:
        proc.stdin.close()
        proc.wait(60)
    return times


# -- ComfyUI -----------------------------------------------------------------------------------
COMFY_NODES = '''
"""Loaders for Weft's tiny Wan 2.1 twin, written by Weft's bench/peers.py (see its docstring).

ComfyUI's stock loaders infer the twin's shapes wrongly; these build the same ComfyUI
classes with the shapes given here and check that every weight in the file was loaded."""
import contextlib

import comfy.ldm.wan.vae
import comfy.model_detection
import comfy.sd
import comfy.sd1_clip
import comfy.text_encoders.t5
import comfy.text_encoders.wan
import comfy.utils
import folder_paths


@contextlib.contextmanager
def replaced(module, name, value):
    original = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, original)


def check(kind, in_file, loaded):
    if set(in_file) != set(loaded):
        raise RuntimeError(f"{kind}: not in the model: {sorted(set(in_file) - set(loaded))}; "
                           f"not in the file: {sorted(set(loaded) - set(in_file))}")


class TinyWanModelLoader:
    CATEGORY, FUNCTION, RETURN_TYPES = "weft", "load", ("MODEL",)

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"unet_name": (folder_paths.get_filename_list("diffusion_models"),),
                             "num_heads": ("INT", {"default": 1, "min": 1})}}

    def load(self, unet_name, num_heads):
        sd = comfy.utils.load_torch_file(folder_paths.get_full_path_or_raise("diffusion_models", unet_name))
        names = set(sd)  # loading pops the weights out of sd
        detect = comfy.model_detection.detect_unet_config

        def detect_tiny(state_dict, prefix, metadata=None):
            config = detect(state_dict, prefix, metadata=metadata)
            # Stock: width // 128 heads and a 4096-wide text input (the published models').
            config["num_heads"] = num_heads
            config["text_dim"] = state_dict[prefix + "text_embedding.0.weight"].shape[1]
            return config

        with replaced(comfy.model_detection, "detect_unet_config", detect_tiny):
            model = comfy.sd.load_diffusion_model_state_dict(sd)
        check("model", names, model.model.diffusion_model.state_dict())
        return (model,)


class TinyWanVAELoader:
    CATEGORY, FUNCTION, RETURN_TYPES = "weft", "load", ("VAE",)

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"vae_name": (folder_paths.get_filename_list("vae"),),
                             "dim": ("INT", {"default": 96, "min": 1}),
                             "dim_mult": ("STRING", {"default": "1,2,4,4"}),
                             "num_res_blocks": ("INT", {"default": 2, "min": 0})}}

    def load(self, vae_name, dim, dim_mult, num_res_blocks):
        sd = comfy.utils.load_torch_file(folder_paths.get_full_path_or_raise("vae", vae_name))
        shape = {"dim": dim, "dim_mult": [int(m) for m in dim_mult.split(",")], "num_res_blocks": num_res_blocks}
        wan_vae = comfy.ldm.wan.vae.WanVAE
        # Stock: dim 96, dim_mult [1, 2, 4, 4], 2 residual blocks (the published Wan 2.1 VAE).
        with replaced(comfy.ldm.wan.vae, "WanVAE", lambda **config: wan_vae(**{**config, **shape})):
            vae = comfy.sd.VAE(sd=sd)
        check("vae", sd, vae.first_stage_model.state_dict())
        return (vae,)


class TinyUMT5Loader:
    CATEGORY, FUNCTION, RETURN_TYPES = "weft", "load", ("CLIP",)

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"clip_name": (folder_paths.get_filename_list("text_encoders"),),
                             "num_heads": ("INT", {"default": 64, "min": 1}),
                             "relative_attention_num_buckets": ("INT", {"default": 32, "min": 1})}}

    def load(self, clip_name, num_heads, relative_attention_num_buckets):
        sd = comfy.utils.load_torch_file(folder_paths.get_full_path_or_raise("text_encoders", clip_name))
        tokenizer_data = {"spiece_model": sd.pop("spiece_model")}  # as in ComfyUI's own UMT5 files
        width = sd["shared.weight"].shape[1]
        # Stock: the UMT5-XXL config file (24 blocks, 4096 wide, 64 heads).
        config = {"vocab_size": sd["shared.weight"].shape[0], "d_model": width,
                  "num_layers": len({k.split(".")[2] for k in sd if k.startswith("encoder.block.")}),
                  "num_heads": num_heads,
                  "d_kv": sd["encoder.block.0.layer.0.SelfAttention.q.weight"].shape[0] // num_heads,
                  "d_ff": sd["encoder.block.0.layer.1.DenseReluDense.wi_0.weight"].shape[0],
                  "dense_act_fn": "gelu_pytorch_tanh", "is_gated_act": True, "model_type": "umt5"}
        buckets = relative_attention_num_buckets

        class Encoder(comfy.sd1_clip.SDClipModel):  # comfy.text_encoders.wan.UMT5XXlModel with this config
            def __init__(self, device="cpu", layer="last", layer_idx=None, dtype=None, model_options={}):
                super().__init__(device=device, layer=layer, layer_idx=layer_idx, textmodel_json_config=config,
                                 dtype=dtype, special_tokens={"end": 1, "pad": 0},
                                 model_class=comfy.text_encoders.t5.T5, enable_attention_masks=True,
                                 zero_out_masked=True, model_options=model_options)
                # Stock: 32 buckets, fixed in T5Attention.
                for m in self.modules():
                    if isinstance(m, comfy.text_encoders.t5.T5Attention) and m.relative_attention_bias is not None:
                        old = m.relative_attention_bias
                        m.relative_attention_num_buckets = buckets
                        m.relative_attention_bias = type(old)(buckets, m.num_heads, dtype=old.weight.dtype,
                                                              device=old.weight.device)

        class TextEncoder(comfy.sd1_clip.SD1ClipModel):  # comfy.text_encoders.wan.WanT5Model
            def __init__(self, device="cpu", dtype=None, model_options={}):
                super().__init__(device=device, dtype=dtype, model_options=model_options, name="umt5xxl",
                                 clip_model=Encoder)

        class Target:
            clip, tokenizer, params = TextEncoder, comfy.text_encoders.wan.WanT5Tokenizer, {}

        clip = comfy.sd.CLIP(Target, embedding_directory=folder_paths.get_folder_paths("embeddings"),
                             tokenizer_data=tokenizer_data, parameters=comfy.utils.calculate_parameters(sd))
        missing, unexpected = clip.load_sd(sd)
        if missing or unexpected:
            raise RuntimeError(f"text encoder: missing {missing}, unexpected {unexpected}")
        return (clip,)


NODE_CLASS_MAPPINGS = {"TinyWanModelLoader": TinyWanModelLoader, "TinyWanVAELoader": TinyWanVAELoader,
                       "TinyUMT5Loader": TinyUMT5Loader}
'''


def comfy_base(base: Path, folder: Path) -> dict:
    """ComfyUI's base directory: the twin as single files, the loader package. Returns the
    loaders' shape inputs, read from the twin's configs."""
    from engines.models.comfy_layout import write_comfy_models

    config = {part: json.loads((folder / part / "config.json").read_text())
              for part in ("transformer", "vae", "text_encoder")}
    # The names the workflow's loaders ask for; ComfyUI reads the transformer with or without
    # its "model.diffusion_model." prefix (written without, as this bench always has).
    write_comfy_models(folder, base / "models", names={"transformer": "wan2.1_t2v_tiny.safetensors",
                                                       "vae": "wan2.1_vae_tiny.safetensors",
                                                       "text_encoder": "umt5_tiny.safetensors"},
                       transformer_prefix="")
    (base / "custom_nodes" / "weft_tiny_wan").mkdir(parents=True)
    (base / "custom_nodes" / "weft_tiny_wan" / "__init__.py").write_text(COMFY_NODES)
    return {"model": {"num_heads": config["transformer"]["num_attention_heads"]},
            "vae": {"dim": config["vae"]["base_dim"], "dim_mult": ",".join(map(str, config["vae"]["dim_mult"])),
                    "num_res_blocks": config["vae"]["num_res_blocks"]},
            "text": {"num_heads": config["text_encoder"]["num_heads"],
                     "relative_attention_num_buckets": config["text_encoder"]["relative_attention_num_buckets"]}}


def comfy_workflow(job: Job, prefix: str, shapes: dict) -> dict:
    """The API-format workflow a ComfyUI user would export for this render."""
    flow = {
        "unet": {"class_type": "TinyWanModelLoader", "inputs": {"unet_name": "wan2.1_t2v_tiny.safetensors",
                                                                **shapes["model"]}},
        "clip": {"class_type": "TinyUMT5Loader", "inputs": {"clip_name": "umt5_tiny.safetensors", **shapes["text"]}},
        "vae": {"class_type": "TinyWanVAELoader", "inputs": {"vae_name": "wan2.1_vae_tiny.safetensors",
                                                             **shapes["vae"]}},
        "shift": {"class_type": "ModelSamplingSD3", "inputs": {"model": ["unet", 0], "shift": 3.0}},
        "positive": {"class_type": "CLIPTextEncode", "inputs": {"text": PROMPT, "clip": ["clip", 0]}},
        "negative": {"class_type": "CLIPTextEncode", "inputs": {"text": NEGATIVE, "clip": ["clip", 0]}},
        "latent": {"class_type": "EmptyHunyuanLatentVideo",
                   "inputs": {"width": WIDTH, "height": HEIGHT, "length": FRAMES, "batch_size": 1}},
        "sample": {"class_type": "KSampler",
                   "inputs": {"model": ["shift", 0], "seed": job.seed, "steps": STEPS, "cfg": GUIDANCE,
                              "sampler_name": "uni_pc_bh2", "scheduler": "simple", "positive": ["positive", 0],
                              "negative": ["negative", 0], "latent_image": ["latent", 0], "denoise": 1.0}},
        "decode": {"class_type": "VAEDecode", "inputs": {"samples": ["sample", 0], "vae": ["vae", 0]}},
    }
    if job.fmt == "webm":
        flow["save"] = {"class_type": "SaveWEBM", "inputs": {"images": ["decode", 0], "filename_prefix": prefix,
                                                             "codec": "vp9", "fps": float(job.fps), "crf": 32.0}}
    else:
        flow["video"] = {"class_type": "CreateVideo", "inputs": {"images": ["decode", 0], "fps": float(job.fps)}}
        flow["save"] = {"class_type": "SaveVideo", "inputs": {"video": ["video", 0], "filename_prefix": prefix,
                                                              "format": "mp4", "codec": "h264"}}
    return flow


def _http(url: str, body: dict | None = None) -> dict | None:
    """GET (or POST ``body``) as JSON; None while the server is not up yet."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"ComfyUI refused {url}: {exc.read().decode(errors='replace')}") from None
    except (ConnectionError, urllib.error.URLError):
        return None


def _poll(fetch, server: subprocess.Popen, log: Path, what: str, timeout: float | None = None):
    """Calls ``fetch`` until it answers something, failing with the server's log if the server
    exits first (or ``timeout`` seconds pass)."""
    t0 = time.perf_counter()
    while not (answer := fetch()):
        if server.poll() is not None or (timeout is not None and time.perf_counter() - t0 > timeout):
            raise SystemExit(f"ComfyUI {what}:\n{log.read_text()[-3000:]}")
        time.sleep(0.02)
    return answer


def comfy_round(work: Path, checkout: Path, python: Path, base: Path, shapes: dict, tag: str) -> dict[str, float]:
    with socket.socket() as s:  # a free port on the loopback interface
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    log = work / "comfyui.log"
    t0 = time.perf_counter()
    # A user's default start on a CPU; the database goes to the base folder, not the checkout.
    server = subprocess.Popen([str(python), "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(port),
                               "--base-directory", str(base), "--database-url", f"sqlite:///{work / 'comfyui.db'}"],
                              cwd=checkout, env=dict(os.environ), stdout=subprocess.DEVNULL,
                              stderr=open(log, "w"))
    times = {}
    try:
        _poll(lambda: _http(f"{url}/system_stats") is not None, server, log, "did not start", timeout=300)
        for name, job in CASES.items():
            if name != "cold":
                t0 = time.perf_counter()
            queued = _http(f"{url}/prompt", {"prompt": comfy_workflow(job, f"{tag}_{slug(name)}", shapes)})
            if queued is None:
                raise SystemExit(f"ComfyUI stopped answering:\n{log.read_text()[-3000:]}")
            prompt_id = queued["prompt_id"]
            entry = _poll(lambda: (_http(f"{url}/history/{prompt_id}") or {}).get(prompt_id), server, log, "stopped")
            if entry["status"]["status_str"] != "success":
                raise SystemExit(f"ComfyUI failed ({name}): {json.dumps(entry['status'])[:3000]}")
            saved = [f for files in entry["outputs"]["save"].values() if isinstance(files, list)
                     for f in files if isinstance(f, dict) and "filename" in f][0]
            wait_for(base / "output" / saved["subfolder"] / saved["filename"])
            times[name] = time.perf_counter() - t0
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return times


def comfy_python(checkout: Path, given: Path | None) -> Path:
    if given is not None:
        return given
    for candidate in (checkout / "venv" / "bin" / "python", checkout / ".venv" / "bin" / "python"):
        if candidate.exists():
            return candidate
    raise SystemExit(f"no Python for ComfyUI: {checkout} has no venv/ or .venv/; pass --comfyui-python")


# -- the table ---------------------------------------------------------------------------------
def table(results: dict[str, list[dict[str, float]]]) -> str:
    stacks = [s for s in (WEFT, SCRIPT, "bare diffusers", "ComfyUI") if s in results]
    peers = [s for s in stacks if s not in (WEFT, SCRIPT)]
    median = {s: {c: statistics.median(r[c] for r in results[s]) for c in CASES if c in results[s][0]}
              for s in stacks}
    ratios = [(w, p) for w in (WEFT, SCRIPT) if w in stacks for p in peers]
    head = ["case"] + [f"{s} (s)" for s in stacks] + [f"{w} / {p}" for w, p in ratios]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    for case in CASES:
        cells = [case] + [cell(median[s].get(case)) for s in stacks]
        cells += [cell(median[w][case] / median[p][case] if case in median[w] else None) for w, p in ratios]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"Weft's fps change is {median[WEFT]['fps change (16 -> 8)'] / median[WEFT]['cold']:.3f} "
                 "of its cold render (target <= 0.05).")
    lines.append(f"{SCRIPT}: the same changes at seed 2 (seed 1's are in the engine's cache) from a script that "
                 "stays connected to the resident engine; it has no cold case of its own.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--comfyui", type=Path, default=None, help="a ComfyUI checkout (main.py in it)")
    parser.add_argument("--comfyui-python", type=Path, default=None,
                        help="the Python of ComfyUI's own venv (default: venv/ or .venv/ in the checkout)")
    args = parser.parse_args()

    from engines.models.manager import ModelManager
    folder = ModelManager(profile="tiny").ensure_tiny("wan2.1-t2v-1.3b")
    scratch = Path(tempfile.mkdtemp(prefix="weft-peers-"))
    comfy = None
    if args.comfyui is None:
        print("ComfyUI: not measured (no --comfyui PATH; see the top of bench/peers.py for how to set one up). "
              "Measuring Weft and bare diffusers only.", file=sys.stderr)
    else:
        if not (args.comfyui / "main.py").is_file():
            raise SystemExit(f"--comfyui {args.comfyui}: no main.py there (give a ComfyUI checkout)")
        python = comfy_python(args.comfyui, args.comfyui_python)
        base = scratch / "comfyui-base"
        comfy = (args.comfyui, python, base, comfy_base(base, folder))

    load = os.getloadavg()[0]
    results: dict[str, list[dict[str, float]]] = {WEFT: [], SCRIPT: [], "bare diffusers": []}
    if comfy:
        results["ComfyUI"] = []
    try:
        for n in range(args.rounds):
            for stack in results:
                if stack == SCRIPT:
                    continue  # measured inside Weft's round, on its resident engine
                work = scratch / f"round{n}" / stack.replace(" ", "_")
                work.mkdir(parents=True)
                if stack == WEFT:
                    times, script = weft_round(work)
                    measured = {WEFT: times, SCRIPT: script}
                elif stack == "bare diffusers":
                    measured = {stack: bare_round(work, folder)}
                else:
                    measured = {stack: comfy_round(work, *comfy, tag=f"round{n}")}
                for name, times in measured.items():
                    results[name].append(times)
                    print(f"round {n + 1}/{args.rounds} {name:15}: "
                          + ", ".join(f"{case.split(' (')[0]} {t:.2f} s" for case, t in times.items()),
                          file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    import torch
    print(f"\nText to Video, tiny Wan 2.1 twin, {WIDTH}x{HEIGHT}, {FRAMES} frames, {STEPS} steps, guidance "
          f"{GUIDANCE:g}; median of {args.rounds} interleaved round(s), seconds from the command to the file")
    print(f"{time.strftime('%Y-%m-%d')}, {platform.machine()} {os.cpu_count()} cores, load average at start "
          f"{load:.2f}, torch {torch.__version__}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
          + (f", ComfyUI {comfy_version(args.comfyui)}" if comfy else "") + "\n")
    print(table(results))
    print("bare diffusers has no cache: each change runs the pipeline again.")


def comfy_version(checkout: Path) -> str:
    text = (checkout / "comfyui_version.py").read_text() if (checkout / "comfyui_version.py").exists() else ""
    found = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", text)
    return found[1] if found else "(version unknown)"


if __name__ == "__main__":
    main()
