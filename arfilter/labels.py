"""The emotion label set, shared by training, the model metadata and the app.

Kept in its own module with no imports so that training code and the live app can
both depend on it without pulling each other's dependencies in.
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
