"""Seconds per training step of ``train_EmoReact.py``'s own code path, on synthetic clips; one JSON line on stdout.

    python bodily_tsn/time_train_step.py --steps 4 -- --input fusion --shift --num_segments 3 --batch-size 8

Everything after ``--`` is a ``train_EmoReact.py`` command line: the model (``build_model``), the loss
(``make_loss_fn``), the runtime (``--amp-dtype bfloat16``, ``--channels-last``, ``--threads``) and the step
(``shared_utils.engine.train_one_epoch``) are the trainer's, with random weights and random inputs of the recipe's
shape, so data loading is left out (``benchmark.py``'s ``dataset`` section times it alone). The first step is a
warm-up and is not timed.

It only uses names that this package has had since before its speed work (the options parser, ``build_model``,
``make_loss_fn``, then in ``train_EmoReact.py``, ``Runtime``, ``train_one_epoch``), and imports them from whatever
checkout is first on ``PYTHONPATH``: ``benchmark.py --ref REV`` runs this same file against an older commit,
alternating with this one.
The allocator is the process's own: ``benchmark.py`` starts each run with its ``LD_PRELOAD`` setting (jemalloc,
tcmalloc) or ``--keep-freed-memory`` (glibc, the runtime's default since the speed work).
"""

import argparse
import json
import os
import resource
import sys
import time


def time_steps(trainer_argv: list[str], steps: int) -> dict:
    import torch

    from bodily_tsn.model import build_model
    from bodily_tsn.options import get_args_parser

    try:
        from bodily_tsn.losses import make_loss_fn
    except ImportError:  # a checkout from before losses.py (benchmark.py --ref): the trainer held it
        from bodily_tsn.train_EmoReact import make_loss_fn
    from shared_utils.engine import train_one_epoch
    from shared_utils.runtime import Runtime

    args = get_args_parser().parse_args(trainer_argv)
    rt = Runtime.from_namespace(args)
    model = rt.prepare_model(build_model(args, None))
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=args.momentum)  # lr: no effect on the cost
    streams = 2 if args.input == "fusion" else 1
    generator = torch.Generator().manual_seed(0)
    batch = {"frames": torch.randn(args.batch_size, streams, args.num_segments, 3, args.crop_size, args.crop_size,
                                   generator=generator),
             "labels": (torch.rand(args.batch_size, 8, generator=generator) > 0.7).float(),
             "valence": torch.rand(args.batch_size, generator=generator) * 6 + 1}
    loss_fn = make_loss_fn(args)
    train_one_epoch(model, [batch], optimizer, loss_fn, rt, epoch=0)  # warm-up: allocator, oneDNN kernels
    started = time.perf_counter()
    train_one_epoch(model, [batch] * steps, optimizer, loss_fn, rt, epoch=1)
    seconds = (time.perf_counter() - started) / steps
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    keeping = getattr(args, "keep_freed_memory", False)  # absent in checkouts from before the option
    return {"seconds_per_step": seconds, "clips_per_s": args.batch_size / seconds, "peak_rss_mib": peak_rss_mib,
            "threads": torch.get_num_threads(), "runtime": rt.describe(),
            "allocator": os.environ.get("LD_PRELOAD", "") or "glibc" + (" keeping freed memory" if keeping else "")}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="seconds per train_EmoReact.py training step (synthetic clips)")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("trainer_argv", nargs=argparse.REMAINDER, help="-- then a train_EmoReact.py command line")
    args = parser.parse_args(argv)
    trainer_argv = args.trainer_argv[1:] if args.trainer_argv[:1] == ["--"] else args.trainer_argv
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    os.environ.setdefault("REPRO_NO_PROGRESS", "1")
    print(json.dumps(time_steps(trainer_argv, args.steps)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
