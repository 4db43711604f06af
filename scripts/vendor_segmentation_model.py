"""Copy MediaPipe's selfie segmentation models out of the pinned `mediapipe` wheel into arfilter.

    python scripts/vendor_segmentation_model.py            # pip-download the pinned wheel, extract, verify
    python scripts/vendor_segmentation_model.py --wheel mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl
    python scripts/vendor_segmentation_model.py --check    # only verify the committed files

Why the files are carried inside arfilter instead of depending on `mediapipe`: the two .tflite
files (selfie segmentation, general 256x256 and landscape 144x256) are Google's MediaPipe
models under Apache-2.0 (the wheel's LICENSE is the Apache License 2.0 that
arfilter/models/mediapipe/LICENSE holds, plus a notice for a text-task source file we do not
take), which allows redistribution with the licence and a notice. The `mediapipe` wheel is
~35 MB a platform of native code and graphs that arfilter would never run (LiteRT runs the
model, our NumPy/OpenCV does the rest), and downloading at run time is ruled out (the app must
work offline). So the files are committed under arfilter/models/mediapipe/ byte-identical to
the pinned wheel, whose version and each file's SHA-256 are pinned here, so a refresh is
reproducible and checked. Every platform's wheel of that version carries the same model bytes.
"""

from __future__ import annotations

import sys

from vendoring import WheelFiles, main

SELFIE_SEGMENTATION = WheelFiles(
    requirement="mediapipe==0.10.21",
    wheel_glob="mediapipe-*.whl",
    folder="mediapipe/modules/selfie_segmentation",
    files={
        "selfie_segmentation.tflite": "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
        "selfie_segmentation_landscape.tflite": "a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd",
    },
)

if __name__ == "__main__":
    sys.exit(main(SELFIE_SEGMENTATION, __doc__ or "", sys.argv[1:]))
