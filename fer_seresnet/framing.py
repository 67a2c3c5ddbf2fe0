"""Where FER2013's faces sit in their 48x48 images as OpenCV's face detector sees them, and what that means for
cutting a face out of a photo (``predict``).

    python -m fer_seresnet.framing --data-path data/fer2013 [--checkpoint FILE] [--scales 1.0 1.1 1.2 1.3 1.4]

Every face of the Training holdout (train.py's seeded validation share; nothing of PublicTest) is enlarged
``--upsample`` times and given to predict's detector. For each face found it records the image side over the box
side (how much wider than the detector's box a FER2013 image is) and the box centre's offset from the image centre;
predict's ``FACE_BOX_SCALE`` is the median of the first. Then it cuts each found face out of the enlarged image at
every ``--scales`` framing, exactly as predict does with a photo, and scores the model on the cut-outs, beside the
model on the original 48x48 images of the same faces.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from fer_seresnet.options import framing_parser as get_args_parser
from shared_utils.cli import answer_help_first

answer_help_first(get_args_parser, __name__)

import numpy as np

from fer_seresnet.dataset import IMAGE_SIZE, load_dataset, train_val_test
from fer_seresnet.faces import FaceDetector, FacePredictor, crop_face


def detected_faces(images: np.ndarray, upsample: int, detector: FaceDetector):
    """(indices of the images with a face found, their enlarged grey images, the largest box of each)."""
    import cv2

    kept, enlarged, boxes = [], [], []
    side = IMAGE_SIZE * upsample
    for index, image in enumerate(images):
        big = cv2.resize(image, (side, side), interpolation=cv2.INTER_CUBIC)
        found = detector(cv2.cvtColor(big, cv2.COLOR_GRAY2RGB))
        if found:
            kept.append(index)
            enlarged.append(big)
            boxes.append(found[0])
    return np.asarray(kept, dtype=np.int64), enlarged, boxes


def box_framing(boxes, side: int) -> dict[str, np.ndarray]:
    """Per box: image side / box side, and the box centre's offset from the image centre in box sides."""
    boxes = np.asarray(boxes, dtype=np.float64)
    width = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    return {"scale": side / width,
            "offset_x": ((boxes[:, 0] + boxes[:, 2]) / 2 - side / 2) / width,
            "offset_y": ((boxes[:, 1] + boxes[:, 3]) / 2 - side / 2) / width}


def accuracy(predictor: FacePredictor, crops: np.ndarray, labels: np.ndarray, batch: int = 256) -> float:
    predicted = np.concatenate([predictor.classify(crops[i:i + batch])[1].argmax(1)
                                for i in range(0, len(crops), batch)])
    return float((predicted == labels).mean())


def main(argv: list[str] | None = None) -> dict:
    args = get_args_parser().parse_args(argv)
    predictor = FacePredictor(args.checkpoint, args.device)
    _, holdout, _, val_name, _ = train_val_test(load_dataset("fer2013", args.data_path), "holdout",
                                                args.holdout_fraction, args.split_seed)
    images, labels = holdout.images.numpy(), holdout.labels.numpy()
    if args.limit and args.limit < len(images):  # evenly spaced, so every class is in (the holdout is in class order)
        every = np.unique(np.linspace(0, len(images) - 1, args.limit).round().astype(np.int64))
        images, labels = images[every], labels[every]
    kept, enlarged, boxes = detected_faces(images, args.upsample, predictor.detect)
    if not len(kept):
        raise SystemExit(f"error: the detector found no face in the {len(images)} {val_name} images")
    framing = box_framing(boxes, IMAGE_SIZE * args.upsample)
    labels = labels[kept]
    result = {"holdout_images": len(images), "faces_found": len(kept),
              **{f"median_{name}": float(np.median(values)) for name, values in framing.items()},
              "scale_quartiles": [float(q) for q in np.percentile(framing["scale"], [25, 75])],
              "accuracy_original_48px": accuracy(predictor, images[kept], labels),
              "accuracy_by_scale": {}}
    for scale in args.scales:
        crops = np.stack([crop_face(big, box, scale, IMAGE_SIZE) for big, box in zip(enlarged, boxes)])
        result["accuracy_by_scale"][scale] = accuracy(predictor, crops, labels)
    print(f"{args.checkpoint}: faces found in {len(kept)} of {len(images)} {val_name} images (x{args.upsample}); "
          f"image side / box side: median {result['median_scale']:.3f} (quartiles "
          f"{result['scale_quartiles'][0]:.3f}-{result['scale_quartiles'][1]:.3f}); box centre offset x "
          f"{result['median_offset_x']:+.3f}, y {result['median_offset_y']:+.3f} box sides")
    print("\n| input | accuracy on these faces |\n|---|---|")
    print(f"| the original 48x48 images | {100 * result['accuracy_original_48px']:.2f} % |")
    for scale, value in result["accuracy_by_scale"].items():
        print(f"| predict's cut-out, {scale:g} x the box | {100 * value:.2f} % |")
    return result


if __name__ == "__main__":
    main()
