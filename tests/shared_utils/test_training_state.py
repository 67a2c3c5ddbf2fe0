"""Resume exactness, crash-safe checkpoints and DDP equivalence, on CPU."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from helpers import toy_training as toy
from torch.utils.data import DataLoader, DistributedSampler

from shared_utils.checkpoint import load_checkpoint, restore_training_state, save_checkpoint, training_state
from shared_utils.engine import train_one_epoch
from shared_utils.files import atomic_write
from shared_utils.runtime import Runtime, seed_everything

TOY_SCRIPT = Path(toy.__file__)


def _train(epochs, rt, model, optimizer, scheduler, loader, start=0):
    for epoch in range(start, epochs):
        train_one_epoch(model, loader, optimizer, toy.loss_fn, rt, epoch)
        scheduler.step()


def _fresh(seed=0):
    rt = Runtime.from_args(device="cpu", seed=seed, deterministic=True)
    model = toy.make_model()
    optimizer, scheduler = toy.make_optimizer(model)
    loader = rt.loader(toy.NoisyBlobs(), batch_size=8, train=True)
    return rt, model, optimizer, scheduler, loader


def _weights(model):
    return torch.cat([p.detach().flatten() for p in model.state_dict().values()])


def test_resume_continues_exactly(tmp_path):
    rt, model, optimizer, scheduler, loader = _fresh()
    _train(4, rt, model, optimizer, scheduler, loader)
    uninterrupted = _weights(model)

    rt, model, optimizer, scheduler, loader = _fresh()
    _train(2, rt, model, optimizer, scheduler, loader)
    save_checkpoint(tmp_path / "last.pt", training_state(model, optimizer, scheduler, rt.scaler, epoch=2))

    # a new process: different seed, fresh objects, then restore
    rt, model, optimizer, scheduler, loader = _fresh(seed=999)
    start, _ = restore_training_state(load_checkpoint(tmp_path / "last.pt"), model, optimizer, scheduler, rt.scaler)
    assert start == 2 and scheduler.get_last_lr() == [0.05]
    _train(4, rt, model, optimizer, scheduler, loader, start=start)
    assert torch.equal(_weights(model), uninterrupted)


def test_resume_without_rng_state_would_differ(tmp_path):
    """The control for the test above: weights and optimizer alone do not reproduce the run."""
    rt, model, optimizer, scheduler, loader = _fresh()
    _train(4, rt, model, optimizer, scheduler, loader)
    uninterrupted = _weights(model)
    rt, model, optimizer, scheduler, loader = _fresh()
    _train(2, rt, model, optimizer, scheduler, loader)
    state = training_state(model, optimizer, scheduler, rt.scaler, epoch=2)
    rt, model, optimizer, scheduler, loader = _fresh(seed=999)
    restore_training_state(state, model, optimizer, scheduler, rt.scaler, restore_rng=False)
    _train(4, rt, model, optimizer, scheduler, loader, start=2)
    assert not torch.equal(_weights(model), uninterrupted)


def test_failed_write_keeps_previous_checkpoint(tmp_path):
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, {"epoch": 1, "w": torch.ones(3)})

    def half_then_crash(handle):
        handle.write(b"PK\x03\x04 half a zip file")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half_then_crash)
    assert load_checkpoint(path)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # usual file mode, not mkstemp's 0600


def test_killed_writer_leaves_no_partial_file_under_final_name(tmp_path):
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, {"epoch": 1})
    script = textwrap.dedent(f"""
        import os
        from shared_utils.files import atomic_write
        def write(handle):
            handle.write(b"x" * 1000)
            handle.flush()
            os._exit(9)  # hard kill mid-write: no cleanup handlers run
        atomic_write({str(path)!r}, write)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == 9
    assert load_checkpoint(path) == {"epoch": 1}
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "ckpt.pt"]
    assert all(name.startswith(".ckpt.pt.") and name.endswith(".tmp") for name in leftovers)


def test_unreadable_checkpoint_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(SystemExit, match=r"cannot read checkpoint .*bad\.pt"):
        load_checkpoint(bad)
    with pytest.raises(SystemExit, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(SystemExit, match=r"list\.pt: holds a list, not a checkpoint"):
        load_checkpoint(tmp_path / "list.pt")


def test_ctrl_c_is_one_line_naming_epoch_step_and_resume():
    rt, model, optimizer, _, loader = _fresh()

    def interrupted_after_three(batches):
        for step, batch in enumerate(batches):
            if step == 3:
                raise KeyboardInterrupt
            yield batch

    before = _weights(model).clone()
    with pytest.raises(SystemExit) as exit_info:
        train_one_epoch(model, interrupted_after_three(loader), optimizer, toy.loss_fn, rt, epoch=4)
    assert str(exit_info.value) == ("interrupted in epoch 5 after 3 step(s): the run folder holds the last finished "
                                    "epoch; the same command with --resume continues from there")
    assert not torch.equal(before, _weights(model))  # the three steps before the interrupt did train


def test_two_process_ddp_matches_one_process(tmp_path):
    """gloo, 2 processes x 8 samples == 1 process x 16 samples, same sample order."""
    out = tmp_path / "ddp.pt"
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(TOY_SCRIPT), str(out)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ddp_weights = torch.load(out, weights_only=True)

    seed_everything(0, deterministic=True)
    rt = Runtime.from_args(device="cpu", seed=0, deterministic=True)
    model = toy.make_model(dropout=0.0)
    optimizer, scheduler = toy.make_optimizer(model)
    data = toy.NoisyBlobs(noise=0.0)
    # the permutation DistributedSampler draws, taken whole by a single process
    sampler = DistributedSampler(data, num_replicas=1, rank=0, shuffle=True, seed=0, drop_last=True)
    loader = DataLoader(data, batch_size=16, sampler=sampler, drop_last=True)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        train_one_epoch(model, loader, optimizer, toy.loss_fn, rt, epoch)
        scheduler.step()
    for name, value in model.state_dict().items():
        torch.testing.assert_close(ddp_weights[name], value, rtol=1e-5, atol=1e-6)
    # and the run really moved the weights (the comparison is not between two untouched inits)
    assert not torch.allclose(ddp_weights["0.weight"], toy.make_model(dropout=0.0).state_dict()["0.weight"])


def test_pretrained_weights_load_with_head_skipped_and_clear_errors(tmp_path):
    import torchvision

    from shared_utils.checkpoint import load_pretrained_weights

    source = torchvision.models.resnet18(num_classes=1000)
    path = tmp_path / "r18.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in source.state_dict().items()}}, path)
    target = torchvision.models.resnet18(num_classes=7)  # another head: skipped
    load_pretrained_weights(target, path, skip_prefixes=("fc.",))
    assert torch.equal(target.conv1.weight, source.conv1.weight)
    assert not torch.equal(target.fc.weight[:7], source.fc.weight[:7])
    with pytest.raises(SystemExit, match=r"r18\.pth: does not fit this ResNet \(shape mismatch at fc\.bias"):
        load_pretrained_weights(torchvision.models.resnet18(num_classes=7), path)
    # 165 = ResNet-50's keys missing from a ResNet-18 file, BatchNorm's num_batches_tracked not counted (old
    # files, such as the 2017 Places365 release, lack it)
    with pytest.raises(SystemExit, match=r"does not fit this ResNet \(165 missing keys \(first: layer1\.0\.bn3\.bias"):
        load_pretrained_weights(torchvision.models.resnet50(), path, skip_prefixes=("fc.",))
    with pytest.raises(SystemExit, match=r"--pretrained .*nope\.pth: file not found \(nothing is downloaded"):
        load_pretrained_weights(target, tmp_path / "nope.pth", "--pretrained")


def test_cpu_autocast_only_in_bfloat16():
    """bf16 autocast runs on CPU when asked for by name (the faster setup here); fp16 'amp' stays off on CPU."""
    from shared_utils.runtime import Runtime

    layer = torch.nn.Linear(8, 4)
    x = torch.randn(2, 8)
    bf16 = Runtime.from_args("cpu", amp=True, amp_dtype="bfloat16")
    with bf16.autocast():
        assert layer(x).dtype == torch.bfloat16
    assert bf16.amp and bf16.scaler is not None and not bf16.scaler.is_enabled()
    assert "amp=bfloat16 " in bf16.describe()
    with bf16.eval_autocast():  # named: predictions too
        assert layer(x).dtype == torch.bfloat16
    fp16 = Runtime.from_args("cpu", amp=True, amp_dtype="float16")
    with fp16.autocast():
        assert layer(x).dtype == torch.float32
    assert not fp16.amp and "amp=off" in fp16.describe()


def test_auto_precision_is_bf16_training_and_fp32_predictions_on_a_bf16_cpu():
    """The command lines' default (--amp-dtype auto): bf16 autocast for training steps where the CPU has it natively,
    fp32 predictions (so scores match the pages and fp32 runs); no autocast at all on other CPUs or with --no-amp."""
    from shared_utils.runtime import Runtime, native_cpu_bfloat16

    layer = torch.nn.Linear(8, 4)
    x = torch.randn(2, 8)
    auto = Runtime.from_args("cpu", amp=True, amp_dtype="auto")
    with auto.autocast():
        assert layer(x).dtype == (torch.bfloat16 if native_cpu_bfloat16() else torch.float32)
    with auto.eval_autocast():
        assert layer(x).dtype == torch.float32
    if native_cpu_bfloat16():
        assert "amp=bfloat16 (training steps; predictions fp32)" in auto.describe()
    off = Runtime.from_args("cpu", amp=False, amp_dtype="auto")
    with off.autocast():
        assert layer(x).dtype == torch.float32
