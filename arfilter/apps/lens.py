"""The lens, assembled in one place: the analysis pipeline, the filter packs and the composer.

Every front end (the window, the headless runner, the web server) builds its lenses here, so
the emotion model's metadata is read once, the packs are discovered once and checked against
the model's labels, and a broken pack is reported once. The web server builds one lens per live
connection from one `LensFactory`: each has its own pipeline (tracking and smoothing state, its
own interpreter for its thread) and its own current pack, while the loaded packs are shared
(read-only after loading).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from arfilter.core.pipeline import Pipeline, PipelineOptions
from arfilter.core.types import Frame, FrameResult
from arfilter.errors import PackError, SourceError
from arfilter.io.guard import ReadFile, files_under
from arfilter.io.sources import open_source
from arfilter.lifecycle import Closeable
from arfilter.render.background import BackgroundOptions, load_background_image
from arfilter.render.compose import Composer
from arfilter.render.packs import BUILTIN_PACKS_DIR, DEFAULT_PACK, PackSet, discover_packs
from arfilter.resources import FACE_MODELS_DIR
from arfilter.vision.emotion import EmotionClassifier, EmotionMetadata
from arfilter.vision.neutral import NeutralReference
from arfilter.vision.segmentation import SelfieSegmenter


def warn(message: str) -> None:
    """One warning line on stderr, the way every front end reports a problem it can carry on with."""
    print(f"arfilter: warning: {message}", file=sys.stderr)


@dataclass(frozen=True)
class LensOptions:
    """The analysis options, and which packs the lens offers and starts with."""

    pipeline: PipelineOptions = field(default_factory=PipelineOptions)
    pack: str = DEFAULT_PACK
    builtin_packs_dir: Path = BUILTIN_PACKS_DIR
    user_packs_dirs: tuple[Path, ...] = ()
    neutral_face: Path | None = None  # a photo of the person's neutral face: its reference applies to every face
    background: BackgroundOptions = field(default_factory=BackgroundOptions)


class Lens(Closeable):
    """One stream's lens: analyses frames (`process`) and draws them (`composer`).

    The person segmenter for the background is loaded only once a background other than
    "none" is asked for, so a lens that never blurs pays nothing for it.
    """

    def __init__(self, pipeline: Pipeline, packs: PackSet, background: BackgroundOptions | None = None) -> None:
        self.pipeline = pipeline
        self.packs = packs
        self.composer = Composer(packs)
        self._segmenter: SelfieSegmenter | None = None
        self.initial_background = background or BackgroundOptions()  # what --background asked for
        self.set_background(self.initial_background)

    @property
    def background(self) -> BackgroundOptions:
        return self.composer.background_options

    def set_background(self, options: BackgroundOptions) -> None:
        """Blur, replace or keep the background from the next frame on (BackgroundError for a bad picture)."""
        self.composer.set_background(options, self._segmenter_once)

    def _segmenter_once(self) -> SelfieSegmenter:
        if self._segmenter is None:
            self._segmenter = SelfieSegmenter.create()
        return self._segmenter

    @property
    def labels(self) -> tuple[str, ...]:
        return self.pipeline.labels

    def process(self, frame: Frame) -> FrameResult:
        return self.pipeline.process(frame)

    def render(self, result: FrameResult) -> np.ndarray:
        """The lens alone (the current pack on every face): what the headless outputs get."""
        return self.composer.lens(result)

    def reset(self) -> None:
        """Forget every track and its smoothing, and the background's mask history (a source change)."""
        self.pipeline.reset()
        if self.composer.background is not None:
            self.composer.background.reset()

    def mirror(self, frame_width: int) -> None:
        """The frames come flipped left to right from now on: the faces keep their ids and labels."""
        self.pipeline.mirror(frame_width)

    def settle(self, result: FrameResult) -> FrameResult:
        """`result` as a frame shown for ever settles (a paused or ended video): see Pipeline.settle."""
        return self.pipeline.settle(result)

    def restart(self) -> None:
        """`reset` for another user's stream: face ids start at 1 again (a server's lenses serve
        many callers, and ids counting across them would reveal the others' traffic)."""
        self.reset()
        self.pipeline.tracker.restart_ids()

    def close(self) -> None:
        self.pipeline.close()
        if self._segmenter is not None:
            self._segmenter.close()


class LensFactory:
    """Reads the model's metadata and discovers the packs once, then builds lenses on demand.

    Construction fails (ModelError, PackError) on a broken model or an unknown pack before any
    front end starts; each skipped user pack is one `warn` line, once.
    """

    def __init__(self, options: LensOptions = LensOptions(), warn: Callable[[str], None] = warn) -> None:
        self.options = options
        metadata_path = options.pipeline.emotion.metadata_path
        self.metadata = EmotionMetadata.load(metadata_path)
        self.packs, self.pack_errors = discover_packs(options.builtin_packs_dir, options.user_packs_dirs,
                                                      self.metadata.labels)
        for error in self.pack_errors:
            warn(f"skipped filter pack: {error}")
        self._reference: NeutralReference | None = None
        if options.background.image_path is not None:
            load_background_image(options.background.image_path)  # a bad picture is one line now, not at a first client
        if not self.packs:
            raise PackError(f"no filter pack covers the labels of the emotion model {metadata_path} "
                            f"({', '.join(self.metadata.labels)}); add a pack with a 'default' entry "
                            "(see --list-packs) or use a model with the shipped labels")

    def files_read(self) -> list[ReadFile]:
        """Every file a lens reads besides the frames: the emotion model (metadata and network),
        the face models, every file of every loaded pack and the neutral-face photo. No output
        may overwrite any of them (see `arfilter.io.guard`)."""
        metadata_path = Path(self.options.pipeline.emotion.metadata_path)
        model_file = self.options.pipeline.emotion.model_file or self.metadata.model_file
        reads = [ReadFile("the emotion model metadata", metadata_path),
                 ReadFile("the emotion model", metadata_path.parent / model_file),
                 *files_under(FACE_MODELS_DIR, "a face model")]
        for pack in self.packs:
            reads += files_under(pack.source_folder, f"a file of the filter pack {pack.name!r}")
        if self.options.neutral_face is not None:
            reads.append(ReadFile("the --neutral-face photo", Path(self.options.neutral_face)))
        return reads

    def build(self, pack: str | None = None) -> Lens:
        """A new lens: its own models and state, the shared packs, starting with `pack` (default: the options')."""
        packs = PackSet(self.packs, pack or self.options.pack, self.pack_errors)  # an unknown pack fails before the models load
        classifier = EmotionClassifier(self.options.pipeline.emotion, metadata=self.metadata)
        lens = Lens(Pipeline(self.options.pipeline, classifier=classifier), packs, self.options.background)
        if self.options.neutral_face is not None:
            if self._reference is None:
                self._reference = neutral_reference_from_photo(lens, self.options.neutral_face)
            lens.pipeline.shared_reference = self._reference
        return lens


def neutral_reference_of(lens: Lens, image_rgb: np.ndarray) -> NeutralReference | None:
    """The neutral reference of the largest face in `image_rgb` (the model's own probabilities, not
    relative to any reference already set); None when no face is found. Leaves no track behind."""
    shared, lens.pipeline.shared_reference = lens.pipeline.shared_reference, None
    try:
        faces = lens.process(Frame(image=image_rgb, index=0, source="neutral face", timestamp_s=0.0, is_still=True)).faces
    finally:
        lens.pipeline.shared_reference = shared
        lens.reset()
    if not faces:
        return None
    largest = max(faces, key=lambda face: face.box[2] * face.box[3])
    return NeutralReference.from_probs(largest.probabilities, largest.labels)


def neutral_reference_from_photo(lens: Lens, path: Path) -> NeutralReference:
    """The neutral reference of the largest face in the photo (or a video's first frame) at `path`."""
    with open_source(str(path)) as source:
        frame = source.read()
    if frame is None:
        raise SourceError(f"--neutral-face {path} has no readable image; pass a photo of the person's neutral face")
    reference = neutral_reference_of(lens, frame.image)
    if reference is None:
        raise SourceError(f"--neutral-face {path}: no face found; pass a photo where the face is clearly visible")
    return reference


def build_lens(options: LensOptions = LensOptions(), warn: Callable[[str], None] = warn) -> Lens:
    """The lens for one stream (the window, a headless run)."""
    return LensFactory(options, warn).build()
