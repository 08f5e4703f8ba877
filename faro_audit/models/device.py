"""Device and dtype resolution (torch imported inside the functions)."""

from __future__ import annotations

from typing import Any

from faro_audit.errors import FaroUsageError

_DTYPES = {
    "float32": "float32", "fp32": "float32", "float": "float32",
    "bfloat16": "bfloat16", "bf16": "bfloat16",
    "float16": "float16", "fp16": "float16", "half": "float16",
}


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` → ``"cuda"`` if available, else ``"mps"`` if available, else ``"cpu"``.

    ``"cpu"``, ``"cuda"``, ``"cuda:N"`` and ``"mps"`` are checked for availability.
    """
    import torch

    d = (device or "auto").strip().lower()
    if d == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if d == "cpu":
        return d
    if d == "cuda" or d.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise FaroUsageError(f"--device {device}: CUDA is not available on this machine; "
                                 "use --device cpu or auto")
        if ":" in d:
            idx = d.split(":", 1)[1]
            if not idx.isdigit() or int(idx) >= torch.cuda.device_count():
                raise FaroUsageError(f"--device {device}: no such GPU ({torch.cuda.device_count()} "
                                     "visible); use cuda:0 .. cuda:N-1")
        return d
    if d == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise FaroUsageError(f"--device {device}: Apple MPS is not available; use --device cpu")
        return d
    raise FaroUsageError(f"--device {device}: unknown device; use auto, cpu, cuda, cuda:N or mps")


def resolve_dtype(dtype: str | None, device: str) -> str:
    """Canonical dtype name. ``None``/``"auto"``: ``bfloat16`` on CUDA with bf16 support,
    ``float32`` elsewhere (CPU and MPS scores are then reproducible to ~1e-6)."""
    if dtype is None or str(dtype).lower() == "auto":
        if device.startswith("cuda"):
            import torch

            return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
        return "float32"
    name = _DTYPES.get(str(dtype).lower())
    if name is None:
        raise FaroUsageError(f"--dtype {dtype}: unknown dtype; use float32, bfloat16 or float16")
    return name


def torch_dtype(name: str) -> Any:
    """The torch dtype of a canonical name."""
    import torch

    return getattr(torch, name)
