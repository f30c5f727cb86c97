"""Image decoding in worker processes with a memory cap, so no upload can grow the gateway.

The header is read in the gateway (:func:`gateway.media.images.inspect_header`: cheap, no
decoding), so pixel bombs never reach a worker. The accepted images are decoded by
``workers`` processes (``spawn``ed once, reused); each caps its own address space at what it
had after start-up plus ``memory_mib`` (``RLIMIT_AS``), so a decoder that would need more
fails with MemoryError there (413 ``image_too_much_memory``) and the gateway process does not
grow at all. A worker that dies or hangs (``timeout_s``) is replaced; the upload is refused.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from gateway.media import images
from yiwang.errors import DomainError, ValidationFailed


def _vm_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _cap_memory(memory_mib: int) -> None:
    """Worker initializer: at most ``memory_mib`` more address space than at start-up."""
    import resource

    cap = _vm_bytes() + memory_mib * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _decode(data: bytes, mime: str, max_pixels: int) -> tuple[Any, ...]:
    """Runs in a worker; answers plain tuples (refusals do not pickle with their status)."""
    try:
        p = images.process(data, mime, max_pixels=max_pixels)
        return ("ok", p.public, p.thumbnail)
    except DomainError as e:
        return ("refused", e.code, e.message_en, e.message_zh, e.status, e.details)
    except MemoryError:
        return ("memory",)


def too_much_memory(memory_mib: int) -> ValidationFailed:
    return ValidationFailed(
        "image_too_much_memory",
        f"decoding the image needs more than {memory_mib} MB of memory",
        f"解码该图片需要超过{memory_mib}MB内存",
        status=413,
        max_memory_mib=memory_mib,
    )


class DecoderPool:
    def __init__(
        self, workers: int, memory_mib: int, max_pixels: int, timeout_s: float = 30.0
    ) -> None:
        self.workers = max(1, workers)
        self.memory_mib = memory_mib
        self.max_pixels = max_pixels
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_cap_memory,
                    initargs=(self.memory_mib,),
                )
            return self._executor

    def _reset(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            for proc in list(getattr(executor, "_processes", {}).values()):
                proc.kill()  # a hung decoder must not keep its memory
            executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._reset()

    def __call__(self, data: bytes, mime: str) -> images.Processed:
        images.inspect_header(data, self.max_pixels)  # bombs never reach a worker
        try:
            future = self._pool().submit(_decode, data, mime, self.max_pixels)
            out = future.result(timeout=self.timeout_s)
        except (BrokenProcessPool, FutureTimeout):
            self._reset()
            raise too_much_memory(self.memory_mib) from None
        if out[0] == "ok":
            return images.Processed(out[1], out[2])
        if out[0] == "refused":
            _, code, en, zh, status, details = out
            raise ValidationFailed(code, en, zh, status=status, **details)
        raise too_much_memory(self.memory_mib)
