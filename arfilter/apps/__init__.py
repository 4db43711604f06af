"""The front ends: the command line, the window, the headless runner and the web app.

Each builds the lens with `arfilter.apps.lens.build_lens` and drives it its own way. Importing
this package sets the process-wide environment that only a front end may decide on, before
pygame or OpenCV's FFmpeg backend load: no pygame start-up banner, and no FFmpeg log lines
("moov atom not found") beside our own one-line errors. The library wings (vision, core,
render, io) never write the environment.
"""

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
