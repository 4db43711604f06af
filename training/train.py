"""Train the arfilter emotion model on FER2013, resumably, and export it to models/.

    python training/train.py --data ../shared/datasets/fer2013 --epochs 60
    python training/train.py --resume          # continue the last run in --run-dir

Selection uses the validation split only (PublicTest, or a held-out part of train when the
download has no val/); the test split is touched once, by the export's final evaluation.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
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

from arfilter.resources import MODELS_DIR
from arfilter.vision.labels import EMOTION_LABELS
from arfilter.vision.preprocessing import preprocess_faces
from training.data import DataError, FaceDataset, check_sharpness, load_fer2013
from training.ferplus import (
    FERPLUS_FILE,
    TARGET_KINDS,
    FerPlusError,
    class_weights_from_targets,
    majority_labels,
    read_ferplus,
    soft_targets,
    votes_for,
)
from training.metrics import softmax

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
    parser.add_argument("--loss", choices=("weighted", "logit-adjusted"), default="weighted",
                        help="cross-entropy with the class weights above, or logit-adjusted cross-entropy "
                             "(the class priors added to the logits in training; class weights then off)")
    parser.add_argument("--warmup-epochs", type=float, default=2.0)
    parser.add_argument("--ema-momentum", type=float, default=0.999,
                        help="exponential moving average of the weights, validated and shipped; 0 disables")
    parser.add_argument("--augment", choices=("webcam", "light"), default="webcam",
                        help="augmentation recipe (training/augment.py): webcam conditions, or geometry and lighting only")
    parser.add_argument("--init-weights", type=Path,
                        help="start from this checkpoint's weights (a fine-tune: new schedule and optimizer)")
    parser.add_argument("--init-member", type=int, default=0,
                        help="with --init-weights naming an ensemble (e.g. arfilter/models/emotion.keras): start from "
                             "its member N (1-based; v2.3: 1 emotion-ft2, 2 member-s2-webcam, 3 member-l5)")
    parser.add_argument("--targets", choices=TARGET_KINDS, default="fer2013",
                        help="training targets: FER2013 one-hot labels, the FER+ vote distributions (ferplus.csv "
                             "beside the splits; faces without usable votes keep their FER2013 label), or half of each")
    parser.add_argument("--fer2013-share", type=float, default=0.5,
                        help="with --targets mix: the FER2013 one-hot label's share of each target (the rest: the "
                             "FER+ vote shares); at 0.5 the FER2013 label always wins, under it a clear FER+ majority does")
    parser.add_argument("--select-on", choices=("fer2013", "ferplus"),
                        help="val labels that choose best.keras: FER2013's, or the FER+ majority (ties and "
                             "non-emotion majorities left out); default: ferplus with FER+ targets, else fer2013")
    parser.add_argument("--width", type=float, default=1.0, help="channel multiplier of the network (1.0: the shipped size)")
    parser.add_argument("--depth", type=float, default=1.0, help="residual units per stage times this (1.0: the shipped depth)")
    parser.add_argument("--network-input-size", type=int, default=48,
                        help="upscale the 48 px face to this size inside the network (the app still feeds 48 px)")
    parser.add_argument("--erase-probability", type=float,
                        help="override the recipe's random erasing probability (0 turns it off)")
    parser.add_argument("--mixup", type=float, default=0.0, help="Beta(a, a) mixup of face pairs and their targets; 0 is off")
    parser.add_argument("--cutmix", type=float, default=0.0, help="Beta(a, a) CutMix of face pairs and their targets; 0 is off")
    parser.add_argument("--teacher", type=Path, action="append", default=[],
                        help="distil from this .keras model (repeatable: the mean of their flip-averaged logits), "
                             "e.g. the shipped ensemble arfilter/models/emotion.keras")
    parser.add_argument("--distill-weight", type=float, default=0.5,
                        help="share of each target taken from the teacher's softened probabilities")
    parser.add_argument("--distill-temperature", type=float, default=2.0, help="softens the teacher's probabilities")
    parser.add_argument("--run-dir", type=Path, default=PROJECT_ROOT / "runs" / "emotion", help="checkpoints and logs")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR, help="where the final model is exported")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --run-dir")
    parser.add_argument("--stop-after", type=int, default=0,
                        help="stop after this many epochs of the schedule, as if interrupted (continue with --resume)")
    parser.add_argument("--no-export", action="store_true", help="stop after training; export later with training/export.py")
    parser.add_argument("--max-train-samples", type=int, default=0, help="use only this many training images (smoke tests)")
    args = parser.parse_args(argv)
    for flag, value, valid, wanted in (
        ("--distill-weight", args.distill_weight, 0.0 <= args.distill_weight <= 1.0, "between 0 and 1"),
        ("--distill-temperature", args.distill_temperature, args.distill_temperature > 0, "above 0"),
        ("--mixup", args.mixup, args.mixup >= 0, "0 (off) or above"),
        ("--cutmix", args.cutmix, args.cutmix >= 0, "0 (off) or above"),
        ("--erase-probability", args.erase_probability,
         args.erase_probability is None or 0.0 <= args.erase_probability <= 1.0, "between 0 and 1"),
        ("--depth", args.depth, args.depth > 0, "above 0"),
        ("--fer2013-share", args.fer2013_share, 0.0 <= args.fer2013_share <= 1.0, "between 0 and 1"),
        ("--init-member", args.init_member, args.init_member >= 0, "0 (a single network) or a member number"),
        ("--network-input-size", args.network_input_size, args.network_input_size >= 48, "48 (the face as fed) or more"),
        ("--epochs", args.epochs, args.epochs >= 1, "1 or more"),
        ("--batch-size", args.batch_size, args.batch_size >= 1, "1 or more"),
    ):
        if not valid:
            parser.error(f"{flag} {value}: must be {wanted}")
    if args.select_on is None:
        args.select_on = "fer2013" if args.targets == "fer2013" else "ferplus"
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded in the model metadata
    return args


def class_prior(labels: np.ndarray) -> np.ndarray:
    """Each class's share of the training labels (never zero, so its log is finite)."""
    counts = np.maximum(np.bincount(labels, minlength=len(EMOTION_LABELS)).astype(np.float64), 1.0)
    return counts / counts.sum()


def class_weights(labels: np.ndarray, power: float) -> np.ndarray:
    """Per-class loss weights that lift rare classes (FER2013's `disgust` is 1.5% of train)."""
    prior = class_prior(labels)
    weights = (prior.mean() / prior) ** power
    return (weights / np.average(weights, weights=prior)).astype(np.float32)


def training_targets(labels: np.ndarray, teacher: np.ndarray | None = None, weight: float = 0.5,
                     temperature: float = 2.0, base: np.ndarray | None = None) -> np.ndarray:
    """(N, 7) float targets: the one-hot labels (or `base`, e.g. FER+ vote shares), mixed with a
    teacher's softened probabilities when given.

    Distillation: the teacher's probabilities say which wrong classes a face resembles (a fearful
    face that looks surprised), which one-hot labels cannot.
    """
    targets = np.eye(len(EMOTION_LABELS), dtype=np.float32)[labels] if base is None else base.astype(np.float32)
    if teacher is None:
        return targets
    return ((1.0 - weight) * targets + weight * softmax(teacher, temperature)).astype(np.float32)


def teacher_logits(args: argparse.Namespace, train: FaceDataset) -> np.ndarray | None:
    """The teachers' mean flip-averaged logits on the clean training faces, cached in the run folder.

    The cache makes a resumed run use exactly the targets it started with (and skips the minutes
    the teachers take).
    """
    if not args.teacher:
        return None
    cache = args.run_dir / "teacher_logits.npy"
    if args.resume and cache.exists():
        cached = np.load(cache)
        if cached.shape == (len(train), len(EMOTION_LABELS)):
            return cached
    from training.evaluate import model_logits

    print(f"teacher logits on {len(train)} training faces from {', '.join(map(str, args.teacher))}", flush=True)
    logits = np.asarray(np.mean([model_logits(path, train.images, flip_average=True) for path in args.teacher],
                                axis=0), np.float32)
    np.save(cache, logits)
    return logits


def make_train_dataset(train: FaceDataset, batch_size: int, weights: np.ndarray, targets: np.ndarray, seed: int,
                       first_epoch: int, epochs: int, augment, mixup: float = 0.0, cutmix: float = 0.0):
    """Batches for epochs `first_epoch`..`epochs - 1`, each a pure function of (seed, epoch, step).

    The shuffle order and every augmentation draw are stateless, so a run resumed at epoch k
    sees exactly the batches an uninterrupted run sees from epoch k on. `targets` are the
    per-face training targets (`training_targets`); `augment` is an `AugmentConfig`. `weights`
    is per class (7,) (each face weighted by its label's) or per face (N,) (soft targets).
    """
    import tensorflow as tf

    from training.augment import augment_batch, mix_pairs

    images = tf.constant(preprocess_faces(train.images))
    face_weights = weights[train.labels] if weights.shape == (len(EMOTION_LABELS),) else weights
    if face_weights.shape != (len(train),):
        raise ValueError(f"weights of shape {weights.shape}: expected ({len(EMOTION_LABELS)},) or ({len(train)},)")
    target_table = tf.constant(targets)
    face_weight = tf.constant(face_weights.astype(np.float32))
    steps = len(train) // batch_size

    def epoch_batches(epoch):
        order = tf.random.experimental.stateless_shuffle(tf.range(len(train)), seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
        batches = tf.data.Dataset.from_tensor_slices(tf.reshape(order[: steps * batch_size], [steps, batch_size]))
        return batches.enumerate().map(lambda step, indices: (epoch, step, indices))

    def load(epoch, step, indices):
        batch_seed = tf.stack([epoch * 100_003 + seed, step])
        augmented = augment_batch(tf.gather(images, indices), batch_seed, augment)
        return mix_pairs(augmented, tf.gather(target_table, indices), tf.gather(face_weight, indices),
                         batch_seed + 7, mixup, cutmix)

    return (tf.data.Dataset.range(first_epoch, epochs).flat_map(epoch_batches)
            .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE)), steps


HISTORY_FIELDS = ("epoch", "loss", "accuracy", "val_accuracy", "val_loss", "raw_val_accuracy", "raw_val_loss", "lr")


def _val_scores(model, faces: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(accuracy, cross-entropy) of the model as it stands, in inference mode."""
    logits = np.concatenate([np.asarray(model(faces[start:start + 512], training=False))
                             for start in range(0, len(faces), 512)])
    logits = logits - logits.max(axis=1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return float((logits.argmax(axis=1) == labels).mean()), float(-log_probs[np.arange(len(labels)), labels].mean())


def _swap_ema(model) -> bool:
    """Exchange the trainable weights with the optimizer's moving averages; False when there is no EMA."""
    averages = getattr(model.optimizer, "_model_variables_moving_average", None)
    if not averages:
        return False
    for variable, average in zip(model.trainable_variables, averages):
        current = variable.numpy()
        variable.assign(average.numpy())
        average.assign(current)
    return True


def _save_atomically(model, path: Path) -> None:
    """A checkpoint is either the old one or the new one, never half a file, whenever the run is stopped."""
    partial = path.with_name(f".{path.stem}.partial.keras")
    model.save(partial)
    os.replace(partial, path)


def epoch_end_callback(run_dir: Path, val: FaceDataset, total_epochs: int, initial_epoch: int, best_so_far: float):
    """Per epoch: validate the raw and the averaged weights, keep the best averaged ones, checkpoint, log.

    `last.keras` holds the raw weights with the optimizer (its step count, moments and moving
    averages), which is all `--resume` needs; `best.keras` holds the averaged weights that
    scored best on val, the ones export ships.
    """
    import keras

    val_faces = preprocess_faces(val.images)

    class _EpochEnd(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.monotonic()
            self.best = best_so_far

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            raw_accuracy, raw_loss = _val_scores(self.model, val_faces, val.labels)
            swapped = _swap_ema(self.model)
            accuracy, loss = _val_scores(self.model, val_faces, val.labels) if swapped else (raw_accuracy, raw_loss)
            if accuracy > self.best:
                self.best = accuracy
                _save_atomically(self.model, run_dir / "best.keras")
            if swapped:
                _swap_ema(self.model)
            lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            row = {"epoch": epoch, "loss": logs.get("loss", float("nan")), "accuracy": logs.get("accuracy", float("nan")),
                   "val_accuracy": accuracy, "val_loss": loss, "raw_val_accuracy": raw_accuracy,
                   "raw_val_loss": raw_loss, "lr": lr}
            history = run_dir / "history.csv"
            new_file = not history.exists()
            with history.open("a", newline="") as handle:
                writer = csv.DictWriter(handle, HISTORY_FIELDS)
                if new_file:
                    writer.writeheader()
                writer.writerow(row)
            _save_atomically(self.model, run_dir / "last.keras")
            done = epoch + 1 - initial_epoch
            elapsed = time.monotonic() - self.start
            print(f"epoch {epoch + 1}/{total_epochs}  loss {row['loss']:.4f}  acc {row['accuracy']:.4f}  "
                  f"val_acc {accuracy:.4f} (raw {raw_accuracy:.4f})  val_loss {loss:.4f}  lr {lr:.2e}  "
                  f"{elapsed / done:.0f} s/epoch  ETA {elapsed / done * (total_epochs - epoch - 1) / 60:.1f} min",
                  flush=True)

    return _EpochEnd()


def _read_history(history_path: Path, epochs_done: int) -> list[dict[str, str]]:
    """The logged epochs that the checkpoint really contains (a stop between log and checkpoint drops the extra row)."""
    if not history_path.exists():
        return []
    with history_path.open() as handle:
        rows = list(csv.DictReader(handle))[:epochs_done]
    with history_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, HISTORY_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def build_compiled_model(args: argparse.Namespace, steps_per_epoch: int, labels: np.ndarray):
    import keras

    from training.model import LogitAdjustedCrossEntropy, ModelConfig, build_model

    total_steps = steps_per_epoch * args.epochs
    warmup_steps = int(args.warmup_epochs * steps_per_epoch)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=args.learning_rate / 10 if warmup_steps else args.learning_rate, decay_steps=max(1, total_steps - warmup_steps),
        warmup_target=args.learning_rate, warmup_steps=warmup_steps, alpha=0.0,
    )
    model = build_model(ModelConfig().scaled(args.width, args.depth, args.network_input_size))
    if args.init_weights:
        source = keras.models.load_model(args.init_weights, compile=False)
        if args.init_member:
            source = source.get_layer(f"member{args.init_member}")
        model.set_weights(source.get_weights())
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=schedule, weight_decay=args.weight_decay,
                                         use_ema=args.ema_momentum > 0, ema_momentum=args.ema_momentum or 0.99,
                                         ema_overwrite_frequency=None),
        loss=(LogitAdjustedCrossEntropy(np.log(class_prior(labels)), label_smoothing=args.label_smoothing)
              if args.loss == "logit-adjusted" else
              keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=args.label_smoothing)),
        metrics=["accuracy"],
    )
    return model


# What a checkpoint was built with: the network (width, depth, input size) and the schedule
# (batch size and epochs fix the steps of the learning-rate curve). Resuming with others would
# silently continue the old network on a wrong schedule.
RESUME_FLAGS = ("width", "depth", "network_input_size", "batch_size", "epochs")


def check_resume_flags(args: argparse.Namespace) -> None:
    """DataError naming every flag whose value differs from the run being resumed."""
    command_path = args.run_dir / "command.json"
    try:
        recorded = json.loads(command_path.read_text())["args"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # a run from before command.json was written: nothing to compare with
    differ = [(key, recorded[key], str(getattr(args, key))) for key in RESUME_FLAGS
              if key in recorded and recorded[key] != str(getattr(args, key))]
    if differ:
        flags = [f"--{key.replace('_', '-')}" for key, _, _ in differ]
        was = " ".join(f"{flag} {old}" for flag, (_, old, _) in zip(flags, differ, strict=True))
        now = " ".join(f"{flag} {new}" for flag, (_, _, new) in zip(flags, differ, strict=True))
        raise DataError(f"--resume: the run in {args.run_dir} was started with {was}, not {now}; pass the same "
                        f"{', '.join(flags)} (see {command_path}) or start a new run with another --run-dir")


# What a run writes: its checkpoints and logs (a new run empties them first) and, unless
# --no-export, the exported model.
RUN_FILES = ("last.keras", "best.keras", "history.csv", "command.json")
EXPORT_FILES = ("emotion.keras", "emotion.json", "emotion.tflite", "emotion_int8.tflite")


def check_inputs_survive(args: argparse.Namespace) -> None:
    """DataError when a file the run reads (--init-weights, a --teacher, a CSV --data) is one the
    run would delete or overwrite: `--init-weights runs/x/best.keras --run-dir runs/x` once
    deleted the weights before loading them, and an export over the --teacher loses the teacher."""
    reads = [("--init-weights", args.init_weights)] if args.init_weights else []
    reads += [("--teacher", path) for path in args.teacher]
    reads += [("--data", args.data)] if args.data.is_file() else []
    writes = [("--run-dir", args.run_dir / name) for name in RUN_FILES if not (args.resume and name == "last.keras")]
    writes += [] if args.no_export else [("--models-dir", args.models_dir / name) for name in EXPORT_FILES]
    for read_flag, read in reads:
        for write_flag, written in writes:
            if written.exists() and os.path.samefile(read, written):
                raise DataError(f"{read_flag} {read} is {written}, which this run writes; pass another {write_flag} "
                                f"(or copy {read} elsewhere first)")


def train(args: argparse.Namespace) -> Path:
    """Run (or resume) training; return the path of the best checkpoint on val."""
    import keras

    import training.model  # noqa: F401  (registers the custom layers for loading checkpoints)

    if args.init_weights and not args.init_weights.is_file():
        raise DataError(f"{args.init_weights}: checkpoint not found; pass a .keras file written by train.py")
    for path in args.teacher:
        if not path.is_file():
            raise DataError(f"{path}: teacher model not found; pass a .keras file (e.g. arfilter/models/emotion.keras)")
        if path.suffix != ".keras":
            raise DataError(f"{path}: a teacher must be a .keras model (e.g. arfilter/models/emotion.keras), not a {path.suffix} file")
    check_inputs_survive(args)
    keras.utils.set_random_seed(args.seed)
    datasets = load_fer2013(args.data, seed=args.seed)
    train_set, val_set = datasets["train"], datasets["val"]
    for name, dataset in datasets.items():
        if dataset.skipped:
            print(f"{name}: skipped {len(dataset.skipped)} bad item(s), first: {dataset.skipped[0]}", flush=True)
    check_sharpness(train_set, val_set)
    base_targets, val_set = ferplus_targets_and_val(args, train_set, val_set)
    if args.max_train_samples:
        subset = np.random.default_rng(args.seed).permutation(len(train_set))[: args.max_train_samples]
        train_set = FaceDataset(train_set.images[subset], train_set.labels[subset], f"{train_set.source} (subset)", [],
                                [train_set.paths[i] for i in subset] if train_set.paths else [])
        base_targets = base_targets[subset] if base_targets is not None else None
    power = 0.0 if args.loss == "logit-adjusted" else args.class_weight_power
    if base_targets is None:
        weights = class_weights(train_set.labels, power)
        face_weights = weights
    else:  # soft targets: a face's weight is its target mass times each class's weight
        weights = class_weights_from_targets(base_targets, power)
        face_weights = (base_targets @ weights).astype(np.float32)
    print(f"train {len(train_set)}  val {len(val_set)} (selection on {args.select_on} labels)  class weights "
          + " ".join(f"{label}={weight:.2f}" for label, weight in zip(EMOTION_LABELS, weights)), flush=True)

    if args.batch_size > len(train_set):
        raise DataError(f"--batch-size {args.batch_size} is larger than the {len(train_set)} training images of "
                        f"{train_set.source}; pass --batch-size {len(train_set)} or less, or more data")
    present = sorted({int(label) for label in train_set.labels})
    if len(present) < 2:
        raise DataError(f"{train_set.source} holds faces of one label only ({EMOTION_LABELS[present[0]]}); "
                        "a classifier needs at least two: add the other label folders")
    args.run_dir.mkdir(parents=True, exist_ok=True)
    last_path, history_path = args.run_dir / "last.keras", args.run_dir / "history.csv"
    steps_per_epoch = len(train_set) // args.batch_size
    if args.resume and last_path.exists():
        check_resume_flags(args)
        model = keras.models.load_model(last_path)
        initial_epoch = int(model.optimizer.iterations.numpy()) // steps_per_epoch
        print(f"resuming {last_path} after epoch {initial_epoch}", flush=True)
    else:
        if args.resume:
            print(f"nothing to resume in {args.run_dir}; starting a new run", flush=True)
        initial_epoch = 0
        history_path.unlink(missing_ok=True)
        (args.run_dir / "best.keras").unlink(missing_ok=True)
        model = build_compiled_model(args, steps_per_epoch, train_set.labels)
        (args.run_dir / "command.json").write_text(json.dumps({
            "command": "python training/train.py " + shlex.join(args.argv),
            "args": {key: str(value) for key, value in vars(args).items()},
        }, indent=2))
    history = _read_history(history_path, initial_epoch)
    best_so_far = max((float(row["val_accuracy"]) for row in history), default=-1.0)
    print(f"model {model.name}: {model.count_params():,} parameters", flush=True)

    from training.augment import AUGMENTATIONS

    augment = AUGMENTATIONS[args.augment]
    if args.erase_probability is not None:
        augment = dataclasses.replace(augment, erase_probability=args.erase_probability)
    targets = training_targets(train_set.labels, teacher_logits(args, train_set), args.distill_weight,
                               args.distill_temperature, base_targets)
    train_ds, steps = make_train_dataset(train_set, args.batch_size, face_weights, targets, args.seed, initial_epoch,
                                         args.epochs, augment, args.mixup, args.cutmix)
    callbacks = [epoch_end_callback(args.run_dir, val_set, args.epochs, initial_epoch, best_so_far)]
    stop = min(args.epochs, args.stop_after) if args.stop_after else args.epochs
    if initial_epoch < stop:
        model.fit(train_ds, epochs=stop, initial_epoch=initial_epoch, steps_per_epoch=steps, callbacks=callbacks,
                  verbose=1 if sys.stdout.isatty() else 0)
    return args.run_dir / "best.keras"


def ferplus_targets_and_val(args: argparse.Namespace, train_set: FaceDataset,
                            val_set: FaceDataset) -> tuple[np.ndarray | None, FaceDataset]:
    """(FER+ or mixed training targets or None for FER2013's, the val set that chooses best.keras).

    With `--select-on ferplus` val keeps the faces with a FER+ majority label, relabelled with it.
    """
    if args.targets == "fer2013" and args.select_on == "fer2013":
        return None, val_set
    csv_path = (args.data if Path(args.data).is_dir() else Path(args.data).parent) / FERPLUS_FILE
    if not train_set.paths or not val_set.paths:
        raise DataError(f"{args.data}: FER+ targets need FER2013 as image folders (train/ val/ test/), not the CSV")
    try:
        table = read_ferplus(csv_path)
    except FerPlusError as error:
        raise DataError(str(error)) from None
    base = None
    if args.targets != "fer2013":
        base, fallback = soft_targets(args.targets, train_set.labels, votes_for(train_set.paths, table),
                                      args.fer2013_share)
        print(f"targets {args.targets}: {fallback} of {len(train_set)} training faces without usable FER+ votes keep "
              "their FER2013 label", flush=True)
    if args.select_on == "ferplus":
        majority = majority_labels(votes_for(val_set.paths, table))
        keep = majority >= 0
        val_set = FaceDataset(val_set.images[keep], majority[keep], f"{val_set.source} (FER+ majority)", [],
                              [path for path, kept in zip(val_set.paths, keep) if kept])
    return base, val_set


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
    from training.export import export_from_checkpoints

    export_from_checkpoints([best_path], data_path=args.data, models_dir=args.models_dir, run_dirs=[args.run_dir], seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
