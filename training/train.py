"""Train the arfilter emotion model on FER2013, resumably, and export it to models/.

    python training/train.py --data ../shared/datasets/fer2013 --epochs 60
    python training/train.py --resume          # continue the last run in --run-dir

Selection uses the validation split only (PublicTest, or a held-out part of train when the
download has no val/); the test split is touched once, by the export's final evaluation.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shlex
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `arfilter` and `training` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from arfilter.labels import EMOTION_LABELS
from arfilter.preprocessing import preprocess_faces
from training.data import DataError, FaceDataset, estimate_blur_gap, load_fer2013

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "datasets" / "fer2013"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="FER2013 folder (train/ [val/] test/) or fer2013.csv")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=2e-3, help="peak AdamW learning rate (cosine schedule)")
    parser.add_argument("--weight-decay", type=float, default=0.02)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--class-weight-power", type=float, default=0.5,
                        help="class weight = (mean count / class count) ** power; 0 disables, 1 is fully balanced")
    parser.add_argument("--warmup-epochs", type=float, default=2.0)
    parser.add_argument("--blur-sigma", type=float, default=None,
                        help="Gaussian blur (px at 48x48) applied to val/test/app faces to match the training split; "
                             "default: measured from the data (0 when train is as sharp as val)")
    parser.add_argument("--run-dir", type=Path, default=PROJECT_ROOT / "runs" / "emotion", help="checkpoints and logs")
    parser.add_argument("--models-dir", type=Path, default=PROJECT_ROOT / "models", help="where the final model is exported")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --run-dir")
    parser.add_argument("--no-export", action="store_true", help="stop after training; export later with training/export.py")
    parser.add_argument("--max-train-samples", type=int, default=0, help="use only this many training images (smoke tests)")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded in the model metadata
    return args


def class_weights(labels: np.ndarray, power: float) -> np.ndarray:
    """Per-class loss weights that lift rare classes (FER2013's `disgust` is 1.5% of train)."""
    counts = np.bincount(labels, minlength=len(EMOTION_LABELS)).astype(np.float64)
    weights = (counts.mean() / np.maximum(counts, 1.0)) ** power
    return (weights / np.average(weights, weights=counts)).astype(np.float32)


def make_datasets(train: FaceDataset, val: FaceDataset, batch_size: int, weights: np.ndarray, seed: int,
                  blur_sigma: float):
    import tensorflow as tf

    from training.augment import augment_batch

    num_classes = len(EMOTION_LABELS)
    train_images = preprocess_faces(train.images)
    train_ds = (
        tf.data.Dataset.from_tensor_slices((train_images, train.labels))
        .shuffle(len(train_images), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size, drop_remainder=True)
        .map(lambda x, y: (augment_batch(x), tf.one_hot(y, num_classes), tf.gather(weights, y)),
             num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    val_ds = (
        tf.data.Dataset.from_tensor_slices((preprocess_faces(val.images, blur_sigma), tf.one_hot(val.labels, num_classes)))
        .batch(256)
        .cache()
    )
    return train_ds, val_ds


class EpochReport:
    """Keras callback: one line per epoch with validation figures and the ETA of the whole run."""

    def __new__(cls, total_epochs: int, initial_epoch: int):
        import keras

        class _Report(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.start = time.monotonic()

            def on_epoch_end(self, epoch, logs=None):
                done = epoch + 1 - initial_epoch
                elapsed = time.monotonic() - self.start
                remaining = elapsed / done * (total_epochs - epoch - 1)
                lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
                print(f"epoch {epoch + 1}/{total_epochs}  loss {logs['loss']:.4f}  acc {logs['accuracy']:.4f}  "
                      f"val_acc {logs['val_accuracy']:.4f}  val_loss {logs['val_loss']:.4f}  lr {lr:.2e}  "
                      f"{elapsed / done:.0f} s/epoch  ETA {remaining / 60:.1f} min", flush=True)

        return _Report()


def completed_epochs(history_path: Path) -> int:
    if not history_path.exists():
        return 0
    with history_path.open() as handle:
        return sum(1 for _ in csv.DictReader(handle))


def train(args: argparse.Namespace) -> Path:
    """Run (or resume) training; return the path of the best checkpoint on val."""
    import keras

    from training.model import build_model

    keras.utils.set_random_seed(args.seed)
    datasets = load_fer2013(args.data, seed=args.seed)
    train_set, val_set = datasets["train"], datasets["val"]
    for name, dataset in datasets.items():
        if dataset.skipped:
            print(f"{name}: skipped {len(dataset.skipped)} bad item(s), first: {dataset.skipped[0]}", flush=True)
    if args.max_train_samples:
        subset = np.random.default_rng(args.seed).permutation(len(train_set))[: args.max_train_samples]
        train_set = FaceDataset(train_set.images[subset], train_set.labels[subset], f"{train_set.source} (subset)")
    weights = class_weights(train_set.labels, args.class_weight_power)
    print(f"train {len(train_set)}  val {len(val_set)}  class weights "
          + " ".join(f"{label}={weight:.2f}" for label, weight in zip(EMOTION_LABELS, weights)), flush=True)
    blur_sigma = args.blur_sigma
    if blur_sigma is None:
        blur_sigma = estimate_blur_gap(train_set.images, val_set.images)
        if blur_sigma > 0:
            print(f"warning: the training images are much blurrier than the validation images (like a Gaussian blur of "
                  f"sigma {blur_sigma} px); validation, test and the app blur faces by that much to match", flush=True)
    train_ds, val_ds = make_datasets(train_set, val_set, args.batch_size, weights, args.seed, blur_sigma)

    args.run_dir.mkdir(parents=True, exist_ok=True)
    last_path, best_path = args.run_dir / "last.keras", args.run_dir / "best.keras"
    history_path = args.run_dir / "history.csv"
    initial_epoch = completed_epochs(history_path) if args.resume else 0
    if args.resume and last_path.exists() and initial_epoch > 0:
        model = keras.models.load_model(last_path)
        print(f"resuming {last_path} after epoch {initial_epoch}", flush=True)
    else:
        if args.resume:
            print(f"nothing to resume in {args.run_dir}; starting a new run", flush=True)
        initial_epoch = 0
        history_path.unlink(missing_ok=True)
        steps_per_epoch = len(train_set) // args.batch_size
        total_steps = steps_per_epoch * args.epochs
        warmup_steps = int(args.warmup_epochs * steps_per_epoch)
        schedule = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=args.learning_rate / 10, decay_steps=max(1, total_steps - warmup_steps),
            warmup_target=args.learning_rate, warmup_steps=warmup_steps, alpha=0.0,
        )
        model = build_model()
        model.compile(
            optimizer=keras.optimizers.AdamW(learning_rate=schedule, weight_decay=args.weight_decay),
            loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=args.label_smoothing),
            metrics=["accuracy"],
        )
    (args.run_dir / "command.json").write_text(json.dumps({
        "command": "python training/train.py " + shlex.join(args.argv),
        "args": {key: str(value) for key, value in vars(args).items()},
        "blur_sigma": blur_sigma,
    }, indent=2))
    print(f"model {model.name}: {model.count_params():,} parameters", flush=True)

    best_so_far = None
    if initial_epoch and history_path.exists():
        with history_path.open() as handle:
            best_so_far = max(float(row["val_accuracy"]) for row in csv.DictReader(handle))
    best_checkpoint = keras.callbacks.ModelCheckpoint(best_path, monitor="val_accuracy", mode="max", save_best_only=True,
                                                      initial_value_threshold=best_so_far)
    callbacks = [
        keras.callbacks.ModelCheckpoint(last_path),
        best_checkpoint,
        keras.callbacks.CSVLogger(history_path, append=True),
        EpochReport(args.epochs, initial_epoch),
    ]
    model.fit(train_ds, validation_data=val_ds, epochs=args.epochs, initial_epoch=initial_epoch, callbacks=callbacks,
              verbose=1 if sys.stdout.isatty() else 2)
    return best_path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        best_path = train(args)
    except DataError as error:
        print(f"train: error: {error}", file=sys.stderr)
        return 2
    if args.no_export:
        print(f"best checkpoint: {best_path}; export it with: python training/export.py --checkpoint {best_path}")
        return 0
    from training.export import export_from_checkpoint

    export_from_checkpoint(best_path, data_path=args.data, models_dir=args.models_dir, run_dir=args.run_dir, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
