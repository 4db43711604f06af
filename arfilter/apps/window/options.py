"""The window's options and its key map, free of pygame.

The command line reads the window's defaults and the key help from here, and a headless run
imports this module without pulling pygame in. Keys are pygame key names ("b", "space",
"escape"), which the app maps to key codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from arfilter.io.sinks.gif import GifOptions
from arfilter.io.virtual_camera import VirtualCameraOptions

KEY_ACTIONS: dict[str, str] = {
    "toggle_bars": "show / hide the emotion bars",
    "raw_bars": "bars: smoothed (what the label is decided from) / this frame's own",
    "hide_hud": "hide / show everything drawn over the image",
    "screenshot": "save a screenshot (PNG)",
    "record": "start / stop recording (MP4, H.264)",
    "gif": "record a GIF of the next 4 s",
    "mirror": "mirror the image",
    "pause": "pause / resume",
    "replay": "play a video again from the start",
    "loop": "loop a video on / off",
    "seek_back": "back a few seconds (videos)",
    "seek_forward": "forward a few seconds (videos)",
    "next_pack": "next filter pack",
    "background": "background: none / blur / your picture",
    "virtual_camera": "start / stop the virtual camera (the lens in video calls)",
    "next_camera": "next camera",
    "capture_hud": "screenshots / recordings with or without the HUD",
    "neutral": "this is my neutral face: read emotions relative to it (again: forget it)",
    "fullscreen": "full screen on / off",
    "help": "show / hide this help",
    "quit": "quit",
}


@dataclass(frozen=True)
class KeyMap:
    """Every hotkey, as pygame key names; an action may have several keys.

    The fields are the actions of KEY_ACTIONS; the app binds each to its handler, the help
    overlay and `arfilter --help` list them from here.
    """

    toggle_bars: tuple[str, ...] = ("b",)
    raw_bars: tuple[str, ...] = ("p",)
    hide_hud: tuple[str, ...] = ("tab",)
    screenshot: tuple[str, ...] = ("s",)
    record: tuple[str, ...] = ("r",)
    gif: tuple[str, ...] = ("g",)
    mirror: tuple[str, ...] = ("m",)
    pause: tuple[str, ...] = ("space",)
    replay: tuple[str, ...] = ("return",)
    loop: tuple[str, ...] = ("l",)
    seek_back: tuple[str, ...] = ("left",)
    seek_forward: tuple[str, ...] = ("right",)
    next_pack: tuple[str, ...] = ("f",)
    background: tuple[str, ...] = ("k",)
    virtual_camera: tuple[str, ...] = ("v",)
    next_camera: tuple[str, ...] = ("c",)
    capture_hud: tuple[str, ...] = ("d",)
    neutral: tuple[str, ...] = ("n",)
    fullscreen: tuple[str, ...] = ("f11",)
    help: tuple[str, ...] = ("h",)
    quit: tuple[str, ...] = ("q", "escape")

    def __post_init__(self) -> None:
        if [item.name for item in fields(self)] != list(KEY_ACTIONS):
            raise ValueError("KeyMap's fields must be the actions of KEY_ACTIONS, in order")
        seen: dict[str, str] = {}
        for action in KEY_ACTIONS:
            for key in getattr(self, action):
                if key in seen:
                    raise ValueError(f"key {key!r} is bound to both {seen[key]} and {action}")
                seen[key] = action

    def action_for(self, key_name: str) -> str | None:
        """The action bound to the key called `key_name` (pygame.key.name), or None."""
        return next((action for action in KEY_ACTIONS if key_name in getattr(self, action)), None)

    def keys_for(self, action: str) -> str:
        """The keys of `action` as people write them, e.g. "Q / Esc" (for help texts that name one action)."""
        return " / ".join(key_label(key) for key in getattr(self, action))

    def help_entries(self) -> list[tuple[str, str]]:
        """(keys, description) for the help overlay, in KEY_ACTIONS order."""
        return [(self.keys_for(action), description) for action, description in KEY_ACTIONS.items()]

    def describe(self) -> str:
        """One line listing every key, for `arfilter --help`."""
        return "; ".join(f"{keys} {description}" for keys, description in self.help_entries())


def key_label(key_name: str) -> str:
    """How a key is written for people: "B", "Space", "Esc", "F11"."""
    named = {"escape": "Esc", "space": "Space", "return": "Enter", "left": "Left", "right": "Right", "tab": "Tab"}
    return named.get(key_name, key_name.upper() if len(key_name) == 1 or key_name[1:].isdigit() else key_name.title())


@dataclass
class AppOptions:
    """How the window behaves.

    screenshot_dir: where S (screenshots) and R (recordings) write, created when needed.
    show_bars / show_stats: initial HUD state (B toggles the bars).
    window_size: initial window size; the window is resizable and the frame is letterboxed.
    max_fps: cap on window redraws per second, which also bounds camera polling.
    headless_seconds: length of the recording written when there is no display.
    capture_hud: whether screenshots and recordings include the HUD (bars and stats; D
        toggles). Off by default: what people share is the lens, not the debug readout.
    first_hint_s: how long the "H: help" hint shows at start (0: never).
    virtual_camera: where V (and --virtual-camera, which starts with it on) sends the lens.
    virtual_camera_on: start sending at once.
    gif: what G records (4 s at 480 px by default).
    loop: play a video file over and over (L toggles) instead of stopping at its end.
    seek_s: how far the arrow keys jump in a video.
    min_window_size: the window cannot be made smaller than this (the HUD needs room).
    """

    screenshot_dir: Path = Path("screenshots")
    show_bars: bool = True
    show_stats: bool = True
    window_size: tuple[int, int] = (960, 720)
    max_fps: int = 60
    keys: KeyMap = field(default_factory=KeyMap)
    headless_seconds: float = 3.0
    title: str = "arfilter"
    capture_hud: bool = False
    first_hint_s: float = 6.0
    virtual_camera: VirtualCameraOptions = field(default_factory=VirtualCameraOptions)
    virtual_camera_on: bool = False
    gif: GifOptions = field(default_factory=GifOptions)
    loop: bool = False
    seek_s: float = 5.0
    min_window_size: tuple[int, int] = (320, 240)

    def __post_init__(self) -> None:
        self.screenshot_dir = Path(self.screenshot_dir)
        if len(self.window_size) != 2 or min(self.window_size) < 1:
            raise ValueError(f"window_size must be two positive integers, got {self.window_size}")
        if self.max_fps < 1:
            raise ValueError(f"max_fps must be at least 1, got {self.max_fps}")
        if self.seek_s <= 0:
            raise ValueError(f"seek_s must be positive, got {self.seek_s}")
        if self.headless_seconds <= 0:
            raise ValueError(f"headless_seconds must be positive, got {self.headless_seconds}")
