"""Interpolate two networks' weights (one network, one run per face) and choose the mix on val.

    python training/interpolate.py --from runs/l5/member.keras --to runs/v3/emotion.keras --out runs/v3.1

Why: fine-tuning the FER2013-label network on the FER+ votes (v3) raised agreement with the FER+
majority but lost FER2013 points and, more, faces that are not FER2013 (posed-faces-tw balanced
accuracy 49% -> 45%): the fine-tune forgot what the FER2013 labels taught about intended
expressions. Averaging the weights of a network and of its own fine-tune (Wortsman et al. 2022,
"Robust fine-tuning of zero-shot models", WiSE-FT) keeps one network of the same size and cost and
moves smoothly between the two: `weights = (1 - alpha) * from + alpha * to`. It only works because
both share their start (v3 was fine-tuned from `--from`): two independently trained networks do not
average. The network, its size and its cost per face are unchanged.

The mix is chosen on val only (PublicTest): `alpha` with the best mean of the two label sets'
balanced accuracies (FER2013's own labels and the FER+ majority of ten annotators): the two disagree
on 38% of the images and neither alone is the expression the person meant, and balanced accuracy
weighs every class alike, as the cross-dataset check does. posed-faces-tw is never used here.
Writes `OUT/best.keras`, `OUT/interpolation.json` (the val curve) and `OUT/command.json` for
training/export.py's provenance.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import cast

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from training.data import load_image_folder

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ALPHAS = tuple(round(step / 10, 1) for step in range(11))


def load_network(spec: str):
    """A network from `PATH` or `PATH:N` (member N of an exported ensemble, as train.py's --init-member)."""
    import keras

    import training.model  # noqa: F401  (registers the custom layers)

    path, _, member = spec.partition(":")
    model = keras.models.load_model(path, compile=False)
    return model.get_layer(f"member{member}") if member else model


def interpolate(start, end, alpha: float) -> list[np.ndarray]:
    """The weights `(1 - alpha) * start + alpha * end`; refused when the two networks differ in shape."""
    first, second = start.get_weights(), end.get_weights()
    if len(first) != len(second) or any(a.shape != b.shape for a, b in zip(first, second)):
        raise ValueError("the two networks have different architectures: only a network and its own fine-tune interpolate")
    return [((1.0 - alpha) * a + alpha * b).astype(a.dtype) for a, b in zip(first, second)]


def lineage(spec: str) -> list[str]:
    """How a network was trained, where export.py left its emotion.json beside it: the command that made it."""
    metadata = Path(spec.partition(":")[0]).with_name("emotion.json")
    if not metadata.is_file():
        return []
    command = json.loads(metadata.read_text()).get("training_command")
    return [command] if isinstance(command, str) and command else []


def choose_alpha(curve: list[dict[str, float]]) -> float:
    """The alpha with the best mean of the two val balanced accuracies (ties: the smaller alpha)."""
    return max(curve, key=lambda row: (round(row["score"], 6), -row["alpha"]))["alpha"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="start", required=True,
                        help="the network fine-tuned from (a .keras; PATH:N takes member N of an ensemble)")
    parser.add_argument("--to", dest="end", required=True, help="its fine-tune (a .keras of the same architecture)")
    parser.add_argument("--data", type=Path, default=PROJECT_ROOT.parent / "shared" / "datasets" / "fer2013")
    parser.add_argument("--alphas", default=",".join(str(alpha) for alpha in ALPHAS),
                        help="weights of --to to try, comma-separated, each in [0, 1]")
    parser.add_argument("--out", type=Path, required=True, help="a new run folder for best.keras and the val curve")
    args = parser.parse_args(argv)
    from training.cross_eval import recall_report
    from training.evaluate import keras_logits
    from training.ferplus import FERPLUS_FILE, majority_labels, read_ferplus, votes_for

    try:
        alphas = sorted({float(value) for value in args.alphas.split(",")})
    except ValueError:
        print(f"interpolate: error: --alphas {args.alphas!r} is not a comma-separated list of numbers", file=sys.stderr)
        return 2
    if not alphas or not all(0.0 <= alpha <= 1.0 for alpha in alphas):
        print(f"interpolate: error: --alphas {args.alphas!r}: each weight must be between 0 and 1", file=sys.stderr)
        return 2
    for spec in (args.start, args.end):
        if not Path(spec.partition(":")[0]).is_file():
            print(f"interpolate: error: network {spec} not found", file=sys.stderr)
            return 2
    if not (args.data / "val").is_dir() or not (args.data / FERPLUS_FILE).is_file():
        print(f"interpolate: error: {args.data} needs val/ and {FERPLUS_FILE}; pass --data", file=sys.stderr)
        return 2
    if (args.out / "best.keras").exists():
        print(f"interpolate: error: {args.out / 'best.keras'} exists; choose a new --out", file=sys.stderr)
        return 2

    val = load_image_folder(args.data / "val")
    majority = majority_labels(votes_for(val.paths, read_ferplus(args.data / FERPLUS_FILE)))
    has_majority = majority >= 0
    start, end = load_network(args.start), load_network(args.end)
    mixed = load_network(args.end)
    curve = []
    for alpha in alphas:
        mixed.set_weights(interpolate(start, end, alpha))
        predicted = keras_logits(mixed, val.images).argmax(axis=1)
        fer2013 = recall_report(predicted, val.labels)
        ferplus = recall_report(predicted[has_majority], majority[has_majority])
        row = {"alpha": alpha,
               "fer2013_accuracy": cast(float, fer2013["accuracy"]),
               "fer2013_balanced": cast(float, fer2013["balanced_accuracy"]),
               "ferplus_accuracy": cast(float, ferplus["accuracy"]),
               "ferplus_balanced": cast(float, ferplus["balanced_accuracy"])}
        row["score"] = (row["fer2013_balanced"] + row["ferplus_balanced"]) / 2
        curve.append(row)
        print(" ".join(f"{key} {value:.4f}" for key, value in row.items()), flush=True)
    alpha = choose_alpha(curve)
    mixed.set_weights(interpolate(start, end, alpha))
    args.out.mkdir(parents=True, exist_ok=True)
    partial = args.out / "best.keras.partial.keras"
    mixed.save(partial)
    partial.replace(args.out / "best.keras")
    (args.out / "interpolation.json").write_text(json.dumps({"from": args.start, "to": args.end, "chosen_alpha": alpha,
                                                             "rule": choose_alpha.__doc__, "curve": curve}, indent=2))
    # The fine-tune's own command first (when its emotion.json is beside it), so the export's provenance and
    # the model card say how the network was trained as well as how it was mixed.
    command = "\n".join([*lineage(args.end),
                         "python training/interpolate.py " + " ".join(sys.argv[1:] if argv is None else argv)])
    (args.out / "command.json").write_text(json.dumps({"command": command, "args": {"init_weights": None}}, indent=2))
    print(f"chose alpha {alpha} (val mean balanced accuracy {max(row['score'] for row in curve):.4f}); "
          f"wrote {args.out / 'best.keras'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
