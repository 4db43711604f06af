"""The pygame window: `options` (window options and the key map, free of pygame), `app` (the loop's
state and key handlers), `outputs` (what it sends out: R's recording, G's GIF, V's virtual camera),
`surfaces` (surfaces, screenshots), `launch` (display checks, the camera-or-demo fallback, the
no-display run)."""
