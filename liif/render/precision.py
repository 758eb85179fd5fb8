"""What the engine computes in: fp32, bf16 or int8, and `auto`, chosen from what this machine does fast.

- fp32: everything; the reference's arithmetic, the oracle.
- bf16: autocast for the encoder and the decoder, where the hardware has bf16 matrix units (AMX, AVX-512
  BF16, CUDA): several times fp32 there, and far slower than fp32 elsewhere.
- int8: the decoder's layers after the first in int8 (`liif/core/int8.py`); the encoder in bf16 where the
  CPU has bf16 units, else fp32; the rest fp32. oneDNN's int8 products run on AVX2 (about 2x fp32,
  measured) and AVX-512 VNNI / AVX-VNNI (3-4x fp32, and ~1.7x bf16 on the same AVX-512 BF16 CPU).

`auto` takes int8 on an x86 CPU with int8 kernels (with or without bf16 units: where both exist, int8's
decoder beside a bf16 encoder measured faster than bf16 throughout, docs/performance.md), else bf16 where
it is fast (CUDA, a CPU with bf16 units and no int8 kernels), else fp32. The CPU's facts can be passed in
(`CpuFacts`), so the choice is tested without the CPU it is about.
"""

from contextlib import contextmanager
from dataclasses import dataclass

import torch

from liif.core import int8
from liif.settings import PRECISIONS


@dataclass(frozen=True)
class CpuFacts:
    fast_bf16: bool  # AMX or AVX-512 BF16: bf16 matrix products several times faster than fp32
    int8: str | None  # the best int8 dot product: "vnni" (AVX-512 VNNI or AVX-VNNI), "avx2", or None


def _cpuinfo(field: str) -> str:
    """The value of the first `field` line of Linux's /proc/cpuinfo; "" where there is none."""
    try:
        with open("/proc/cpuinfo") as f:
            line = next((line for line in f if line.startswith(field)), "")
    except OSError:
        return ""
    return line.split(":", 1)[1].strip() if ":" in line else ""


def cpu_name() -> str:
    """The CPU's model name as Linux gives it (e.g. "AMD EPYC"), else the platform's word for it."""
    import platform

    return _cpuinfo("model name") or platform.processor() or platform.machine()


def cpu_facts(flags: set | None = None) -> CpuFacts:
    """What this CPU has, from Linux's list of its flags; elsewhere (no /proc/cpuinfo) from PyTorch's own
    checks. The list comes first because it is what a VM or `shared/tools/avx2-only` says the CPU is:
    PyTorch asks the chip, and oneDNN then keeps to the ISA it is allowed (ONEDNN_MAX_CPU_ISA)."""
    flags = (set(_cpuinfo("flags").split()) or None) if flags is None else flags
    if flags is None:
        cpu = getattr(torch, "cpu", None)

        def has(name):
            return bool(getattr(cpu, name, lambda: False)())

        bf16 = has("_is_amx_tile_supported") or has("_is_avx512_bf16_supported")
        vnni, avx2 = has("_is_vnni_supported"), has("_is_avx2_supported")
    else:
        bf16 = "amx_bf16" in flags or "avx512_bf16" in flags
        vnni, avx2 = "avx512_vnni" in flags or "avx_vnni" in flags, "avx2" in flags
    return CpuFacts(bf16, "vnni" if vnni else "avx2" if avx2 else None)


def cpu_has_fast_bf16() -> bool:
    """AMX or AVX-512 BF16: where bf16 matrix products are several times faster than fp32."""
    return cpu_facts().fast_bf16


def pick_precision(name: str, device: torch.device, cpu: CpuFacts | None = None) -> str:
    """The precision an engine on `device` computes in, for the asked `name` (a precision or "auto")."""
    if name not in PRECISIONS + ("auto",):
        raise ValueError(f"unknown precision {name!r}: use fp32, bf16, int8 or auto")
    if name == "int8" and (device.type != "cpu" or not int8.kernels_available()):
        raise ValueError("int8 runs on the CPU, with PyTorch's oneDNN int8 kernels: "
                         f"not on {device.type}" if device.type != "cpu" else "this PyTorch has no oneDNN int8 kernels")
    if name != "auto":
        return name
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type != "cpu":
        return "fp32"
    cpu = cpu_facts() if cpu is None else cpu
    if cpu.int8 and int8.kernels_available():
        return "int8"
    return "bf16" if cpu.fast_bf16 else "fp32"


def encoder_precision(precision: str, device: torch.device, cpu: CpuFacts | None = None) -> str:
    """What the encoder computes in for an engine's precision: int8 is the decoder's; beside it the encoder
    runs in bf16 where the CPU has bf16 units (about twice its fp32 speed there), else in fp32."""
    if precision != "int8":
        return precision
    cpu = cpu_facts() if cpu is None else cpu
    return "bf16" if device.type == "cpu" and cpu.fast_bf16 else "fp32"


def precision_words(precision: str, cpu: CpuFacts | None = None) -> str:
    """The precision as the page and the CLI name it: int8 says which part is int8, and what the rest is."""
    if precision != "int8":
        return precision
    if encoder_precision(precision, torch.device("cpu"), cpu) == "bf16":
        return "int8 (the decoder's layers after the first; the encoder bf16, the rest fp32)"
    return "int8 (the decoder's layers after the first; the rest fp32)"


@contextmanager
def torch_threads(most: int = 1):
    """Torch on at most `most` threads inside, put back after: for a lesson's own small sums (the renders
    keep every thread). Split over two threads on a busy 2-core machine they wait on each other: a probe
    took 250 ms against 11 ms on one thread, the answers' sums 1-2 s against 0.2 s (measured)."""
    before = torch.get_num_threads()
    if before > most:
        torch.set_num_threads(most)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
