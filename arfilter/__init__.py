"""arfilter: a real-time AR emoji/filter lens driven by facial-emotion recognition."""

__version__ = "0.1.0"
