"""A resident engine for repeated headless renders: one worker kept warm, reached over a Unix socket.

    weft engine start [--models default|tiny]    keep an engine running (in the foreground; Ctrl+C stops it)
    weft engine status                           is one running, for which models, since when
    weft engine stop                             stop it

Every ``weft render`` otherwise starts a fresh worker and pays for importing
torch and diffusers (~5 s on a laptop CPU) and for loading the model again.
While a resident engine for the same models profile runs, ``weft render``
sends its jobs there instead (it says so on stderr), so the imports are paid
once and the loaded models and the in-memory result cache stay warm.

Safety: the socket lives in the user's runtime folder (``$XDG_RUNTIME_DIR/weft``,
else a ``weft-UID`` folder under the temp folder), the folder is the user's own
with mode 0700 and the socket 0600, and each connection's peer must be the same
user (``SO_PEERCRED``). It is never a network port.

The wire is the worker's own protocol (``engines.protocol``: one JSON object a
line), relayed by an ``EngineClient`` inside the server, which routes each job's
events back to the connection that submitted it. A connection that goes away
has its unfinished jobs cancelled.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from engines.client import EngineClient, EngineError

PROFILES = ("default", "tiny")


def runtime_dir() -> Path:
    """The user's own folder for the socket (created 0700; refused if someone else owns it)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(base) / "weft" if base and Path(base).is_dir() else Path(tempfile.gettempdir()) / f"weft-{os.getuid()}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid():
        raise EngineError(f"{folder} belongs to another user; not using it for the engine's socket")
    if info.st_mode & 0o077:
        os.chmod(folder, 0o700)
    return folder


def socket_path(models: str) -> Path:
    if models not in PROFILES:
        raise ValueError(f"models profile {models!r} is not one of {', '.join(PROFILES)}")
    return runtime_dir() / f"engine-{models}.sock"


def _peer_uid(sock: socket.socket) -> int | None:
    """The connecting process's user id (Linux SO_PEERCRED), or None where the platform cannot say."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    creds = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid


class ResidentServer:
    """Serves one warm worker to the connections on the socket."""

    def __init__(self, models: str, *, client: EngineClient | None = None, path: Path | None = None):
        self.models = models
        self.path = path or socket_path(models)
        self.client = client or EngineClient(models=models)
        self.started_at = time.time()
        self.renders = 0
        self._server: asyncio.AbstractServer | None = None
        self._stopped = asyncio.Event()

    async def start(self) -> None:
        if self.path.exists():
            if await ping(self.path):
                raise EngineError(f"an engine for the {self.models} models already runs ({self.path})")
            self.path.unlink()  # left by an engine that was killed
        await self.client.start()  # the imports are paid here, once
        old_umask = os.umask(0o177)  # the socket is created 0600
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=str(self.path), limit=64 << 20)
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)

    async def wait_closed(self) -> None:
        await self._stopped.wait()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.path.unlink(missing_ok=True)
        await self.client.close()
        self._stopped.set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None and _peer_uid(sock) not in (None, os.getuid()):
            writer.close()
            return
        jobs: set[str] = set()
        relays: list[asyncio.Task] = []
        lock = asyncio.Lock()

        async def send(message: dict[str, Any]) -> None:
            async with lock:
                writer.write((json.dumps(message) + "\n").encode())
                await writer.drain()

        async def relay(job_id: str) -> None:
            try:
                async for event in self.client.events(job_id):
                    await send(event)
            except (ConnectionError, RuntimeError):
                pass
            finally:
                jobs.discard(job_id)

        try:
            await send({"event": "ready", **self.client.worker_info, **self.status()})
            while True:
                line = await reader.readline()
                if not line:
                    break
                try:
                    message = json.loads(line)
                except ValueError:
                    await send({"event": "error", "error": "unreadable message"})
                    continue
                command = message.get("cmd")
                if command == "run":
                    job_id = await self.client.submit(
                        message["project"], targets=message.get("targets"),
                        output_dir=message.get("output_dir") or ".", project_dir=message.get("project_dir") or ".",
                        project_name=message.get("project_name") or "untitled",
                        name_fields=message.get("name_fields") or {}, job_id=message.get("job"))
                    self.renders += 1
                    jobs.add(job_id)
                    relays.append(asyncio.create_task(relay(job_id)))
                elif command == "cancel":
                    await self.client.cancel(message.get("job", ""))
                elif command == "ping":
                    await send({"event": "pong", "id": message.get("id")})
                elif command == "status":
                    await send({"event": "status", **self.status()})
                elif command == "stop":
                    await send({"event": "stopping"})
                    asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self.stop()))
                    break
                elif command == "shutdown":
                    break  # a client closing its side: the engine stays up for the next
                else:
                    await send({"event": "error", "error": f"unknown command {command!r}"})
        except ConnectionError:
            pass
        finally:
            for job_id in list(jobs):  # the artist's render went away: stop its work
                await self.client.cancel(job_id)
            await asyncio.gather(*relays, return_exceptions=True)
            writer.close()

    def status(self) -> dict[str, Any]:
        return {"resident": True, "models": self.models, "server_pid": os.getpid(), "worker_pid": self.client.pid,
                "started_at": self.started_at, "renders": self.renders}


class ResidentClient(EngineClient):
    """An EngineClient whose worker is the resident engine's: same jobs, events and cancels,
    over the socket. Closing it closes the connection; the engine stays up."""

    def __init__(self, *, models: str = "default", path: Path | None = None, **kwargs: Any):
        super().__init__(models=models, **kwargs)
        self.path = path or socket_path(models)
        self._writer: asyncio.StreamWriter | None = None

    @property
    def alive(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    @property
    def pid(self) -> int | None:
        return self.worker_info.get("worker_pid")

    async def _start(self) -> None:
        try:
            reader, self._writer = await asyncio.open_unix_connection(str(self.path), limit=64 << 20)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise EngineError(f"no resident engine at {self.path}") from exc
        self._ready = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read_socket(reader))
        await self._ready

    async def _read_socket(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                line = await reader.readline()
            except ConnectionError:
                line = b""
            if not line:
                break
            try:
                self._dispatch(json.loads(line))
            except ValueError:
                self._log(f"[engine] unreadable message: {line[:200]!r}")
        self._writer = None
        self._worker_died(None)

    async def _send(self, message: dict[str, Any]) -> None:
        if self._writer is None:
            raise EngineError("the resident engine went away")
        self._writer.write((json.dumps(message) + "\n").encode())
        await self._writer.drain()

    def _dispatch(self, event: dict[str, Any]) -> None:
        if event.get("event") in ("status", "stopping"):
            self.worker_info.update(event)
            return
        super()._dispatch(event)

    async def close(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    def kill(self) -> None:
        if self._writer is not None:
            self._writer.close()


async def ping(path: Path, timeout: float = 2.0) -> dict[str, Any] | None:
    """The resident engine's status, or None when none answers at ``path``."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), timeout)
    except (OSError, asyncio.TimeoutError):
        return None
    try:
        line = await asyncio.wait_for(reader.readline(), timeout)
        return json.loads(line) if line else None
    except (OSError, ValueError, asyncio.TimeoutError):
        return None
    finally:
        writer.close()


async def connect_if_running(models: str) -> ResidentClient | None:
    """A client of the resident engine for ``models`` if one runs (and answers), else None."""
    try:
        path = socket_path(models)
    except (EngineError, OSError):
        return None
    if not path.exists():
        return None
    client = ResidentClient(models=models, path=path)
    try:
        await asyncio.wait_for(client.start(), 5.0)
    except (EngineError, OSError, asyncio.TimeoutError):
        await client.close()
        return None
    return client


async def stop(models: str) -> bool:
    """Asks the resident engine for ``models`` to stop; False when none runs."""
    path = socket_path(models)
    if not path.exists():
        return False
    try:
        reader, writer = await asyncio.open_unix_connection(str(path))
    except OSError:
        path.unlink(missing_ok=True)
        return False
    await reader.readline()  # ready
    writer.write(b'{"cmd": "stop"}\n')
    await writer.drain()
    await reader.readline()  # stopping
    writer.close()
    for _ in range(100):  # the engine removes its socket once its worker has shut down
        if not path.exists():
            break
        await asyncio.sleep(0.1)
    return True


async def serve_forever(models: str) -> None:
    """``weft engine start``: runs until stopped (``weft engine stop``, Ctrl+C or SIGTERM)."""
    import signal

    server = ResidentServer(models)
    await server.start()
    print(f"weft: engine for the {models} models ready (pid {os.getpid()}, worker {server.client.pid}); "
          f"weft render uses it while it runs. Stop it with: weft engine stop"
          + ("" if models == "default" else f" --models {models}"), file=sys.stderr, flush=True)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(server.stop()))
        except (NotImplementedError, RuntimeError):
            pass
    await server.wait_closed()
    print("weft: engine stopped", file=sys.stderr)


__all__ = ["ResidentClient", "ResidentServer", "connect_if_running", "ping", "runtime_dir", "serve_forever",
           "socket_path", "stop"]
