"""The FER2013 label set that training uses and export writes into the model's metadata.

The app never reads it from here: it takes the labels from the metadata of the model it
runs (arfilter.vision.emotion.EmotionMetadata), so a model trained on another label set needs no
code change. Kept in its own module with no imports so that training does not pull in the
app's dependencies.
"""

# Alphabetical, the order of the FER2013 image folders and of the model's outputs.
EMOTION_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")

# The original fer2013.csv integer codes: 0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral.
FER2013_CSV_CODES: dict[int, str] = {
    0: "angry",
    1: "disgust",
    2: "fear",
    3: "happy",
    4: "sad",
    5: "surprise",
    6: "neutral",
}
