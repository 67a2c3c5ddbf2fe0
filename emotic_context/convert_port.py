"""Convert a Tandon-A/emotic user's trained models into a checkpoint of this package, without running their code.

    python -m emotic_context.convert_port MODELS_DIR OUT.pt
    python -m emotic_context.main --mode test --checkpoint OUT.pt --experiment_path RUN --data_path DATA/emotic_pre

The port saves whole modules with ``torch.save(model)`` (its ``train.py:129-131``): ``model_context1.pth`` and
``model_body1.pth`` (``nn.Sequential(*list(resnet.children())[:-1])``) and ``model_emotic1.pth`` (its ``Emotic``
fusion module, ``emotic.py``). ``weights_only=True`` refuses such files; here they are unpickled with inert
stand-ins for every class (``shared_utils.checkpoint.load_weights_only``), only torch / torchvision module
classes and the port's own ``emotic.Emotic`` are accepted, and their parameters and buffers are mapped to
``EmoticModel``'s names. A file naming any other class is refused in one line.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from emotic_context.options import convert_port_parser
from shared_utils.cli import answer_help_first

answer_help_first(convert_port_parser, __name__)

import pickle
from pathlib import Path

import torch

import emotic_context  # noqa: F401  (imports shared_utils before torchvision)
from emotic_context.model import EmoticModel
from emotic_context.options import PORT_BODY_SIZE, PORT_CONTEXT_SIZE
from shared_utils.checkpoint import load_weights_only, module_state_dict, save_checkpoint, training_state

PORT_FILES = {"context": "model_context1.pth", "body": "model_body1.pth", "fusion": "model_emotic1.pth"}
# nn.Sequential(*list(resnet.children())[:-1]): conv1, bn1, relu, maxpool, layer1..4, avgpool
RESNET_CHILDREN = {"0": "conv1", "1": "bn1", "4": "layer1", "5": "layer2", "6": "layer3", "7": "layer4"}
FUSION_NAMES = {"fc1": "fuse.0", "bn1": "fuse.1", "fc_cat": "cat_head", "fc_cont": "cont_head"}


def port_class_allowed(name: str) -> bool:
    """torch / torchvision module classes, and the port's own fusion module."""
    return name.startswith(("torch.nn.modules.", "torchvision.models.")) or name == "emotic.Emotic"


def read_port_module(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise SystemExit(f"error: {path}: not found (the port saves {', '.join(PORT_FILES.values())} "
                         "in its models folder)")
    try:
        obj = load_weights_only(path, allow_class=port_class_allowed)
        return module_state_dict(obj)
    except (pickle.UnpicklingError, ValueError, RuntimeError) as exc:
        raise SystemExit(f"error: {path}: not one of the port's saved models ({exc})") from None


def trunk_arch(state: dict[str, torch.Tensor], path: Path) -> str:
    if "4.0.conv3.weight" in state:
        return "resnet50"
    if "4.0.conv2.weight" in state:
        return "resnet18"
    raise SystemExit(f"error: {path}: not a ResNet trunk saved by the port (no 4.0.conv2 / 4.0.conv3)")


def convert(models_dir: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """``(our state_dict, arch record)`` from the port's three files."""
    models_dir = Path(models_dir)
    states = {role: read_port_module(models_dir / name) for role, name in PORT_FILES.items()}
    arch = {"context_model": trunk_arch(states["context"], models_dir / PORT_FILES["context"]),
            "body_model": trunk_arch(states["body"], models_dir / PORT_FILES["body"]),
            "mask_body": False, "context_size": PORT_CONTEXT_SIZE, "body_size": PORT_BODY_SIZE}
    ours: dict[str, torch.Tensor] = {}
    for role in ("context", "body"):
        for key, value in states[role].items():
            index, _, rest = key.partition(".")
            if index in RESNET_CHILDREN:
                ours[f"{role}_trunk.{RESNET_CHILDREN[index]}.{rest}"] = value
    for key, value in states["fusion"].items():
        layer, _, rest = key.partition(".")
        if layer in FUSION_NAMES:
            ours[f"{FUSION_NAMES[layer]}.{rest}"] = value
    model = EmoticModel(arch["context_model"], arch["body_model"])
    own = model.state_dict()
    missing = sorted(set(own) - set(ours))
    wrong = sorted(k for k in own if k in ours and ours[k].shape != own[k].shape)
    if missing or wrong:
        problem = f"missing {missing[0]}" if missing else f"shape mismatch at {wrong[0]}"
        raise SystemExit(f"error: {models_dir}: the port's models do not fit EmoticModel ({problem})")
    return {k: ours[k] for k in own}, arch


def main(argv=None) -> Path:
    parser = convert_port_parser()
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.exists():
        raise SystemExit(f"error: {out} already exists; choose another name")
    state, arch = convert(args.models_dir)
    model = EmoticModel(arch["context_model"], arch["body_model"])
    model.load_state_dict(state)
    save_checkpoint(out, training_state(model, extra={"arch": arch, "converted_from": str(args.models_dir)}))
    print(f"wrote {out} ({arch['context_model']} context, {arch['body_model']} body); use it with "
          f"--checkpoint {out} in --mode test / inference")
    return out


if __name__ == "__main__":
    main()
