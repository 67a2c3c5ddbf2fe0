"""The little runtime every trainer needs: device, seeds, determinism, AMP, channels_last, DDP, logging.

Typical use in a training script::

    rt = Runtime.from_args(device=args.device, amp=args.amp, channels_last=args.channels_last,
                           seed=args.seed, deterministic=args.deterministic)
    model = rt.prepare_model(model)            # .to(device), channels_last, DDP wrap when distributed
    loader = rt.loader(train_set, batch_size=args.batch_size, train=True, num_workers=args.workers)
    for epoch in ...:
        rt.set_epoch(loader, epoch)
        with rt.autocast():
            ...
    rt.close()

Under ``torchrun`` (``RANK``/``WORLD_SIZE`` set) the process group is set up with NCCL on CUDA and
gloo on CPU; ``batch_size`` given to :meth:`Runtime.loader` is the *per-process* batch.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from tqdm.auto import tqdm

LOGGER_NAME = "repro"


# --------------------------------------------------------------------------- devices and seeds
def select_device(requested: str = "auto", local_rank: int = 0) -> torch.device:
    """``auto`` -> CUDA when present, else CPU. ``cuda`` without a GPU is a clear error."""
    requested = (requested or "auto").lower()
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise SystemExit("error: --device cuda was asked for but torch sees no CUDA device; use --device cpu")
        if requested == "cuda":
            requested = f"cuda:{local_rank}"
    elif requested != "cpu":
        raise SystemExit(f"error: unknown --device {requested!r}; use auto, cpu, cuda or cuda:N")
    return torch.device(requested)


_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # glibc's malloc.h


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to keep the memory a training step frees for the next step: big blocks from the heap
    rather than fresh mmap()s (no mmap cap: M_MMAP_MAX 0) and no trimming back to the OS (M_TRIM_THRESHOLD 2 GiB).
    By default each step's activation buffers are mapped, zero-filled by page faults and unmapped again, which
    halved the fp32 ResNet-50 TSM step's speed on the 2-core dev machine (bodily_tsn/README.md, allocator table).
    Returns False where the C library has no mallopt (not glibc); no effect under an LD_PRELOADed allocator."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(_M_MMAP_MAX, 0) == 1 and mallopt(_M_TRIM_THRESHOLD, 2**31 - 1) == 1


def native_cpu_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX-512 BF16 or AMX); elsewhere bf16 autocast is slow emulation."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed python, numpy and torch (all devices); optionally force deterministic kernels.

    Deterministic mode makes runs bit-for-bit repeatable on one machine at some speed cost
    (no cuDNN autotuning, deterministic scatter/index kernels; CUBLAS workspace pinned).
    """
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    else:
        torch.backends.cudnn.benchmark = torch.cuda.is_available()


def seed_worker(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: derive numpy/python seeds from torch's per-worker seed."""
    worker_seed = torch.initial_seed() % (2**32)
    np.random.seed(worker_seed)
    random.seed(worker_seed)


# --------------------------------------------------------------------------- distributed
@dataclass
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device_hint: str = "auto") -> DistInfo:
    """Set up the process group when launched by ``torchrun``; a no-op in a plain process."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return DistInfo()
    info = DistInfo(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0)))
    if info.world_size == 1:
        return info
    use_cuda = torch.cuda.is_available() and device_hint in ("auto", "cuda") or device_hint.startswith("cuda:")
    backend = "nccl" if use_cuda else "gloo"
    if use_cuda:
        torch.cuda.set_device(info.local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return info


def cleanup_distributed() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def all_gather_cat(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate a (N_i, ...) tensor from every rank along dim 0 (sizes may differ per rank)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return tensor
    tensor = tensor.contiguous()
    size = torch.tensor([tensor.shape[0]], device=tensor.device)
    sizes = [torch.zeros_like(size) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, size)
    max_n = int(max(s.item() for s in sizes))
    padded = torch.zeros((max_n, *tensor.shape[1:]), dtype=tensor.dtype, device=tensor.device)
    padded[: tensor.shape[0]] = tensor
    gathered = [torch.zeros_like(padded) for _ in sizes]
    dist.all_gather(gathered, padded)
    return torch.cat([g[: int(s.item())] for g, s in zip(gathered, sizes)], dim=0)


class _UnpaddedDistributedSampler(DistributedSampler):
    """Evaluation sampler: rank r takes indices r, r+W, ... with no padding, so every sample is
    scored exactly once after :func:`all_gather_cat` (the stock sampler repeats samples to pad)."""

    def __init__(self, dataset, num_replicas, rank):
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=False, drop_last=False)
        self.num_samples = len(range(rank, len(dataset), num_replicas))

    def __iter__(self):
        return iter(range(self.rank, len(self.dataset), self.num_replicas))


# --------------------------------------------------------------------------- logging and progress
def get_logger(run_dir: str | Path | None = None, is_main: bool = True) -> logging.Logger:
    """Rank-0 logger to stderr and, when ``run_dir`` is given, to ``run_dir/log.txt``."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(logging.INFO if is_main else logging.WARNING)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    fmt = logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S")
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(fmt)
    logger.addHandler(stream)
    if run_dir is not None and is_main:
        file_handler = logging.FileHandler(Path(run_dir) / "log.txt")
        file_handler.setFormatter(fmt)
        logger.addHandler(file_handler)
    return logger


def progress(iterable, desc: str = "", enabled: bool = True, total: int | None = None, **kwargs):
    """tqdm progress bar, silenced on non-main ranks and by ``REPRO_NO_PROGRESS=1`` (tests, CI)."""
    disable = not enabled or os.environ.get("REPRO_NO_PROGRESS") == "1"
    return tqdm(iterable, desc=desc, total=total, disable=disable, leave=False, dynamic_ncols=True, **kwargs)


# --------------------------------------------------------------------------- the runtime object
@dataclass
class Runtime:
    device: torch.device
    dist: DistInfo = field(default_factory=DistInfo)
    amp: bool = False
    amp_dtype: torch.dtype = torch.float16
    channels_last: bool = False
    seed: int = 0
    deterministic: bool = False
    scaler: torch.amp.GradScaler | None = None
    eval_amp: bool = False  # autocast for predictions too (CUDA; CPU only when bfloat16 is asked for by name)

    @classmethod
    def from_args(
        cls,
        device: str = "auto",
        amp: bool = True,
        channels_last: bool = False,
        seed: int = 0,
        deterministic: bool = False,
        amp_dtype: str = "float16",
        threads: int = 0,
        keep_freed: bool = True,
    ) -> Runtime:
        """Build the runtime. ``amp`` takes effect on CUDA, and on CPU with ``amp_dtype`` ``"bfloat16"`` or ``"auto"``.

        ``amp_dtype="auto"`` (the command lines' default): float16 on CUDA; on a CPU with native bfloat16 (AVX-512
        BF16 or AMX), bfloat16 autocast for the training steps only, predictions staying fp32 (exact, and the same as
        the pages' and earlier runs' scores); on other CPUs no autocast. ``"bfloat16"`` named on CPU autocasts
        predictions too.

        ``threads > 0`` sets torch's CPU intra-op threads: on a machine whose cores are busy with
        other work, 1 thread avoids OpenMP threads spin-waiting on each other (10-20x slower here).
        ``keep_freed``: :func:`keep_freed_memory` (glibc keeps what a step frees for the next step).
        """
        if threads and threads > 0:
            torch.set_num_threads(threads)
        if keep_freed:
            keep_freed_memory()
        info = init_distributed(device)
        dev = select_device(device, info.local_rank)
        # Every rank gets the same seed, so models start identical; DistributedSampler splits the data.
        seed_everything(seed, deterministic)
        eval_amp = amp_dtype != "auto" or dev.type == "cuda"
        if amp_dtype == "auto":
            amp_dtype = "float16" if dev.type == "cuda" else "bfloat16"
            amp = amp and (dev.type == "cuda" or native_cpu_bfloat16())
        # CPU autocast only in bfloat16: 1.6-2.7x faster training than fp32 on an AVX-512 BF16 CPU (each package's
        # bench.py, README tables); fp16 on CPU has no such kernels.
        dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16}[amp_dtype]
        use_amp = bool(amp) and (dev.type == "cuda" or (dev.type == "cpu" and amp_dtype == "bfloat16"))
        scaler = torch.amp.GradScaler("cuda", enabled=use_amp and dtype == torch.float16)
        return cls(dev, info, use_amp, dtype, bool(channels_last), seed, deterministic, scaler, use_amp and eval_amp)

    @classmethod
    def from_namespace(cls, args) -> Runtime:
        """Build from the flags :func:`add_runtime_args` defines."""
        return cls.from_args(args.device, args.amp, args.channels_last, args.seed, args.deterministic,
                             args.amp_dtype, args.threads, args.keep_freed_memory)

    @property
    def is_main(self) -> bool:
        return self.dist.is_main

    def barrier(self) -> None:
        """Under DDP, wait until every rank gets here (e.g. until rank 0 has written a checkpoint)."""
        if self.dist.distributed:
            dist.barrier()

    def describe(self) -> str:
        amp = "off" if not self.amp else str(self.amp_dtype).removeprefix("torch.") + (
            "" if self.eval_amp else " (training steps; predictions fp32)")
        extras = [f"amp={amp}", f"world_size={self.dist.world_size}"]
        if self.channels_last:
            extras.append("channels_last")
        return f"{self.device} ({self.device_name()}) " + " ".join(extras)

    def device_name(self) -> str:
        return torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else "cpu"

    def autocast(self):
        """Mixed precision for a training step (forward and loss)."""
        if self.amp:
            return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)
        return contextlib.nullcontext()

    def eval_autocast(self):
        """Mixed precision for predictions: as training on CUDA; on CPU only where bfloat16 was asked for by name."""
        if self.amp and self.eval_amp:
            return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)
        return contextlib.nullcontext()

    def prepare_model(self, model: torch.nn.Module, find_unused_parameters: bool = False) -> torch.nn.Module:
        model = model.to(self.device)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        if self.dist.distributed:
            device_ids = [self.device.index] if self.device.type == "cuda" else None
            model = torch.nn.parallel.DistributedDataParallel(
                model, device_ids=device_ids, find_unused_parameters=find_unused_parameters
            )
        return model

    def to_device(self, tensor: torch.Tensor) -> torch.Tensor:
        tensor = tensor.to(self.device, non_blocking=True)
        if self.channels_last and tensor.dim() == 4:
            tensor = tensor.contiguous(memory_format=torch.channels_last)
        return tensor

    def loader(
        self,
        dataset: Dataset,
        batch_size: int,
        train: bool,
        num_workers: int = 0,
        drop_last: bool | None = None,
        collate_fn=None,
    ) -> DataLoader:
        """Training loaders shuffle (seeded; DistributedSampler under torchrun); eval loaders keep
        order and, under torchrun, split the samples without padding."""
        sampler = None
        shuffle = train
        if self.dist.distributed:
            if train:
                sampler = DistributedSampler(
                    dataset, self.dist.world_size, self.dist.rank, shuffle=True, seed=self.seed, drop_last=True
                )
            else:
                sampler = _UnpaddedDistributedSampler(dataset, self.dist.world_size, self.dist.rank)
            shuffle = False
        return DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=shuffle,
            sampler=sampler,
            num_workers=num_workers,
            pin_memory=self.device.type == "cuda",
            drop_last=train if drop_last is None else drop_last,
            worker_init_fn=seed_worker,
            persistent_workers=num_workers > 0,
            collate_fn=collate_fn,
        )

    @staticmethod
    def set_epoch(loader: DataLoader, epoch: int) -> None:
        if isinstance(loader.sampler, DistributedSampler):
            loader.sampler.set_epoch(epoch)

    def unwrap(self, model: torch.nn.Module) -> torch.nn.Module:
        return model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model

    def close(self) -> None:
        cleanup_distributed()
