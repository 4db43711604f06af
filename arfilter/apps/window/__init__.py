"""The pygame window: `options` (window options and the key map, free of pygame), `app` (the loop's
state and key handlers), `launch` (display checks, the camera-or-demo fallback, the no-display run)."""
