"""Paint a texture drawn in the face mesh's UV space onto a live face: face paint, masks, tears.

MediaPipe's canonical face mesh gives every one of the 468 landmarks a texture coordinate
(UV) and joins them in 898 triangles (arfilter/assets/face_geometry, Apache-2.0; see its
NOTICE). A texture painted on the UV template therefore maps onto a face by carrying each
triangle from UV space to where its three landmarks are in the frame, so the paint stretches
with the mouth, the brows and the blinks and turns with the head.

How a face is drawn, and why (the cost target is 2.5 ms per face on a 2-core CPU; warping the
texture triangle by triangle, one `cv2.warpAffine` and one mask per triangle, took 33 ms for
the 864 front-facing triangles of a 266x307 px face, this way 1.4 ms):

1. Back-face culling: a triangle whose screen winding is reversed faces away from the camera
   (its normal, with the landmarks' depth, points away) and is dropped, as are triangles seen
   edge-on; the rest are ordered far to near by their mean depth.
2. Rasterisation on a coarse grid (about `GRID_SAMPLES` samples across the face), vectorised
   in NumPy: every sample finds the nearest front-facing triangle over it and its barycentric
   coordinates give the sample's UV. No z-buffer is needed: where two front-facing triangles
   overlap (the nose over the far cheek), the nearer one simply wins.
3. The map from the frame to UV space is continuous and piecewise linear, so the coarse grid,
   upsampled linearly to every pixel (one `cv2.resize`, five times faster than a warp), is
   exact inside triangles and off by a fraction of a pixel at their corners. One `cv2.remap` then samples the texture (from the mip level just
   above the face's size, so a 1024 px texture on a 150 px face does not shimmer) for the
   whole face at once.
4. Coverage: the convex hull of the front-facing triangles, filled with anti-aliased edges,
   is the face's outline wherever the face is convex (all round a frontal face, and the far
   cheek's silhouette of a turned one); the coarse coverage, one sample wider than the mesh,
   trims what the hull bridges (between the nose and the far cheek of a face turned well
   away). No triangle has an edge of its own, so there are no seams. The eyes and the mouth
   are cut out with anti-aliased polygons on their contour landmarks, so they show through,
   sharp-edged, as the eyes blink and the mouth opens.
5. Optional lighting from the face: the paint takes the frame's own brightness under it
   (relative to the face's average), so shadows and highlights of the skin show through and
   it does not look pasted on.
6. Blend `normal` (over) or `multiply` (darkens like ink; white leaves the skin as it is),
   through the same premultiplied blend as every sprite (arfilter.render.overlay).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from arfilter.render.overlay import Sprite, blend_premultiplied, scale_premultiplied
from arfilter.resources import data_path
from arfilter.vision.geometry import IMAGE_LEFT_EYE_INDICES, IMAGE_RIGHT_EYE_INDICES

FACE_MESH_PATH = data_path("assets", "face_geometry", "face_mesh.npz")
LANDMARK_COUNT = 468

# Inner contour of the lips, in order around the mouth opening.
INNER_LIP_INDICES = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
OPEN_REGIONS: dict[str, tuple[tuple[int, ...], ...]] = {
    "eyes": (IMAGE_LEFT_EYE_INDICES, IMAGE_RIGHT_EYE_INDICES),
    "mouth": (INNER_LIP_INDICES,),
}
BLEND_MODES = ("normal", "multiply")

# Coarse samples across the longer side of the face: 96 keeps the rasterisation under half a
# millisecond and the sampling error of the map under a pixel on a face 400 px tall.
GRID_SAMPLES = 96
# A triangle this close to edge-on (|cos| of its normal to the view direction) is dropped:
# its texels would be smeared into a streak.
MIN_FACING = 0.05
# Lighting from the frame: how strongly the skin's brightness modulates the paint, the
# blur that keeps the skin's pores out of it, and the range of the modulation.
LIGHT_STRENGTH = 0.7
LIGHT_BLUR_FRACTION = 0.02  # of the face's size
LIGHT_RANGE = (0.45, 1.5)


@dataclass(frozen=True)
class FaceMesh:
    """MediaPipe's canonical face mesh: UV (0..1, v down) and canonical position of each landmark,
    the triangles (landmark indices, clockwise on screen when facing the camera)."""

    uv: np.ndarray  # (468, 2) float32
    triangles: np.ndarray  # (898, 3) int32
    vertices: np.ndarray  # (468, 3) float32, cm, x to image-right, y down, z away from the camera


    def posed(self, yaw_deg: float = 0.0, pitch_deg: float = 0.0, roll_deg: float = 0.0,
              center_xy: tuple[float, float] = (0.0, 0.0), interocular_px: float = 60.0) -> np.ndarray:
        """The canonical face turned to a pose, as (468, 3) landmarks seen straight on (no
        perspective): yaw positive turns the nose to image-right, pitch positive looks down,
        roll positive turns the face clockwise on screen (FaceGeometry's conventions). For
        tests, benchmarks and previews of a pack on a face at a known angle."""
        yaw, pitch, roll = (math.radians(angle) for angle in (yaw_deg, pitch_deg, roll_deg))
        turn_yaw = np.array([[math.cos(yaw), 0.0, -math.sin(yaw)], [0.0, 1.0, 0.0], [math.sin(yaw), 0.0, math.cos(yaw)]])
        turn_pitch = np.array([[1.0, 0.0, 0.0], [0.0, math.cos(pitch), -math.sin(pitch)], [0.0, math.sin(pitch), math.cos(pitch)]])
        turn_roll = np.array([[math.cos(roll), -math.sin(roll), 0.0], [math.sin(roll), math.cos(roll), 0.0], [0.0, 0.0, 1.0]])
        centred = self.vertices - self.vertices.mean(axis=0)
        posed = centred @ (turn_roll @ turn_pitch @ turn_yaw).T
        eyes = self.vertices[[33, 133, 362, 263]]
        scale = interocular_px / float(np.linalg.norm(eyes[2:].mean(axis=0) - eyes[:2].mean(axis=0)))
        return (posed * scale + np.array([center_xy[0], center_xy[1], 0.0])).astype(np.float32)


@cache
def face_mesh() -> FaceMesh:
    """The mesh shipped in the package (read once)."""
    with np.load(FACE_MESH_PATH) as data:
        return FaceMesh(
            uv=data["uv"].astype(np.float32),
            triangles=data["triangles"].astype(np.int32),
            vertices=data["vertices"].astype(np.float32),
        )


@dataclass(frozen=True)
class MeshStyle:
    """How a mesh texture is drawn: its opacity, blend mode, the regions left open (eyes,
    mouth) so the live face shows through, whether the face's own light shades it, and how
    fast it scrolls through UV space (UV units per second, wrapping: tears running down)."""

    opacity: float = 1.0
    blend: str = "normal"
    open_regions: tuple[str, ...] = ("eyes", "mouth")
    lit: bool = True
    scroll: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        if self.blend not in BLEND_MODES:
            raise ValueError(f"blend must be one of {', '.join(BLEND_MODES)}, got {self.blend!r}")
        unknown = [region for region in self.open_regions if region not in OPEN_REGIONS]
        if unknown:
            raise ValueError(f"unknown open region {unknown[0]!r}; known: {', '.join(OPEN_REGIONS)}")


def triangle_facing(landmarks: np.ndarray, triangles: np.ndarray | None = None) -> np.ndarray:
    """Per triangle, the cosine between its normal and the direction to the camera (positive:
    facing the camera). With 2-D landmarks only the winding is known: +1 or -1."""
    triangles = face_mesh().triangles if triangles is None else triangles
    corners = landmarks[triangles].astype(np.float32)
    edge_a, edge_b = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
    screen = edge_a[:, 0] * edge_b[:, 1] - edge_a[:, 1] * edge_b[:, 0]  # > 0: clockwise on screen (y down)
    if landmarks.shape[1] < 3:
        return np.sign(screen)
    normals = np.cross(edge_a[:, :3], edge_b[:, :3])
    return screen / np.maximum(np.linalg.norm(normals, axis=1), 1e-12)


@dataclass(frozen=True)
class FaceRaster:
    """One face rasterised on the coarse grid: `coarse_uv` (rows, columns, 2) float32 UV of each
    sample, `coarse_coverage` (rows, columns) uint8 (255 on the mesh); `box` is (x0, y0, x1, y1)
    in frame pixels. The samples sit where `cv2.resize` expects them (see `to_grid`), so that one
    linear resize carries any grid to every pixel of the box."""

    box: tuple[int, int, int, int]
    coarse_uv: np.ndarray
    coarse_coverage: np.ndarray
    outline: np.ndarray  # (N, 2) float32: convex hull of the front-facing triangles, in frame pixels

    def outline_mask(self) -> np.ndarray:
        """The outline filled with anti-aliased edges, uint8 over the box: the face's crisp
        edge wherever the hull is its silhouette (the coarse coverage trims the rest)."""
        mask = np.zeros((self.size[1], self.size[0]), np.uint8)
        polygon = np.round((self.outline - np.array(self.box[:2], np.float32)) * 16).astype(np.int32)
        cv2.fillPoly(mask, [polygon], 255, lineType=cv2.LINE_AA, shift=4)
        return mask

    @property
    def size(self) -> tuple[int, int]:
        return self.box[2] - self.box[0], self.box[3] - self.box[1]

    def upsample(self, grid: np.ndarray) -> np.ndarray:
        """A coarse grid (of UVs, texture coordinates or coverage) at every pixel of the box."""
        return cv2.resize(grid, self.size, interpolation=cv2.INTER_LINEAR)

    def to_grid(self, points: np.ndarray) -> np.ndarray:
        """Frame positions (N, 2) in grid units: `cv2.resize` reads pixel x of the box at grid
        column (x + 0.5) * columns / width - 0.5, and the same down the rows."""
        return grid_position(points, self.box, self.coarse_coverage.shape)


def grid_position(points: np.ndarray, box: tuple[int, int, int, int], shape: tuple[int, ...]) -> np.ndarray:
    """Frame positions in the grid units of a (rows, columns) grid spanning `box` (see `FaceRaster.to_grid`)."""
    scale = np.array([shape[1] / (box[2] - box[0]), shape[0] / (box[3] - box[1])], np.float32)
    return (points - np.array(box[:2], np.float32) + np.float32(0.5)) * scale - np.float32(0.5)


def rasterise_face(landmarks: np.ndarray, frame_size: tuple[int, int]) -> FaceRaster | None:
    """Rasterise the face with (468, 2 or 3) `landmarks` in a frame of `frame_size` (w, h) on the
    coarse grid; None where none of it is in the frame."""
    mesh = face_mesh()
    points = np.asarray(landmarks, np.float32)
    if points.ndim != 2 or points.shape[0] != LANDMARK_COUNT or points.shape[1] < 2 or not np.isfinite(points).all():
        raise ValueError(f"landmarks must be a finite array of shape ({LANDMARK_COUNT}, 2 or 3), got {points.shape}")
    facing = triangle_facing(points, mesh.triangles)
    kept = np.flatnonzero(facing >= (MIN_FACING if points.shape[1] >= 3 else 0.5))
    if kept.size == 0:
        return None
    if points.shape[1] >= 3:
        depth = points[:, 2].take(mesh.triangles[kept]).sum(axis=1)
        kept = kept[np.argsort(-depth, kind="stable")]  # far first: the nearer wins
    triangles = mesh.triangles[kept]
    used = np.zeros(LANDMARK_COUNT, bool)
    used[triangles.ravel()] = True
    visible = np.ascontiguousarray(points[used, :2])
    low, high = visible.min(axis=0), visible.max(axis=0)
    x0, y0 = max(math.floor(low[0]) - 1, 0), max(math.floor(low[1]) - 1, 0)
    x1, y1 = min(math.ceil(high[0]) + 2, frame_size[0]), min(math.ceil(high[1]) + 2, frame_size[1])
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    step = max(1.0, max(x1 - x0, y1 - y0) / GRID_SAMPLES)
    shape = max(2, round((y1 - y0) / step)), max(2, round((x1 - x0) / step))
    box = (x0, y0, x1, y1)
    on_grid = grid_position(points[:, :2], box, shape)
    coarse_uv, coarse_coverage = _rasterise(on_grid, triangles, mesh.uv, shape)
    outline = cv2.convexHull(visible)[:, 0]
    return FaceRaster(box=box, coarse_uv=coarse_uv, coarse_coverage=coarse_coverage, outline=outline)


def _rasterise(points: np.ndarray, triangles: np.ndarray, uv: np.ndarray,
               shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(UV, coverage) grids of `shape` for `triangles` (T, 3 landmark indices, far to near: the
    last triangle over a sample wins) whose corners are at `points` (468, 2, in grid units) and
    `uv` (468, 2) in texture space.

    Each triangle's candidate samples (the grid points in its bounding box) are tested at once
    with the triangle's affine maps from the grid to barycentric coordinates and to UV: twelve
    coefficients per triangle, worked out on rows of T and gathered per sample in one call.
    Uncovered samples next to covered ones take their neighbours' mean UV, so that upsampling
    across the face's edge never blends towards a meaningless coordinate.
    """
    rows, columns = shape
    # (3 corners, 2 axes, T) and the same for UV: every row contiguous.
    corner = np.ascontiguousarray(points[triangles].transpose(1, 2, 0))
    texel = np.ascontiguousarray(uv[triangles].transpose(1, 2, 0))
    lowest = np.minimum(np.minimum(corner[0], corner[1]), corner[2])
    highest = np.maximum(np.maximum(corner[0], corner[1]), corner[2])
    low = np.maximum(np.ceil(lowest - 1e-3), 0).astype(np.int32)
    high = np.minimum(np.floor(highest + 1e-3), np.array([[columns - 1], [rows - 1]], np.float32)).astype(np.int32)
    spans = np.maximum(high - low + 1, 0)
    counts = spans[0] * spans[1]
    owner = np.repeat(np.arange(len(triangles), dtype=np.int32), counts)
    local = np.arange(owner.size, dtype=np.int32) - np.repeat(np.cumsum(counts, dtype=np.int32) - counts, counts)
    down, across = np.divmod(local, np.repeat(spans[0], counts))
    xs = np.repeat(low[0], counts) + across
    ys = np.repeat(low[1], counts) + down

    # beta = bx x + by y + b0 and gamma likewise; u and v are affine in beta and gamma.
    edge_b, edge_c = corner[1] - corner[0], corner[2] - corner[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = np.float32(1.0) / (edge_b[0] * edge_c[1] - edge_b[1] * edge_c[0])
    bx, by = edge_c[1] * inverse, -edge_c[0] * inverse
    gx, gy = -edge_b[1] * inverse, edge_b[0] * inverse
    b0, g0 = -(bx * corner[0, 0] + by * corner[0, 1]), -(gx * corner[0, 0] + gy * corner[0, 1])
    to_uv = []
    for axis in range(2):
        along_b, along_c = texel[1, axis] - texel[0, axis], texel[2, axis] - texel[0, axis]
        to_uv += [bx * along_b + gx * along_c, by * along_b + gy * along_c, b0 * along_b + g0 * along_c + texel[0, axis]]
    barycentric = np.stack([bx, by, b0, gx, gy, g0]).take(owner, axis=1)
    x, y = xs.astype(np.float32), ys.astype(np.float32)
    beta = barycentric[0] * x + barycentric[1] * y + barycentric[2]
    gamma = barycentric[3] * x + barycentric[4] * y + barycentric[5]
    tolerance = np.float32(-1e-4)  # samples on a shared edge belong to both triangles: no cracks
    inside = np.flatnonzero((beta >= tolerance) & (gamma >= tolerance) & (beta + gamma <= 1.0 - tolerance))
    owner, x, y = owner[inside], x[inside], y[inside]
    cells = ys[inside] * columns + xs[inside]
    nearest = np.full(rows * columns, -1, np.int32)
    np.maximum.at(nearest, cells, owner)
    winners = np.flatnonzero(nearest.take(cells) == owner)
    owner, x, y, cells = owner[winners], x[winners], y[winners], cells[winners]

    mapping = np.stack(to_uv).take(owner, axis=1)
    flat = np.zeros((rows * columns, 3), np.float32)
    flat[cells, 0] = mapping[0] * x + mapping[1] * y + mapping[2]
    flat[cells, 1] = mapping[3] * x + mapping[4] * y + mapping[5]
    flat[cells, 2] = 1.0
    grid = flat.reshape(rows, columns, 3)
    sums = cv2.boxFilter(grid, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)
    covered = grid[:, :, 2] > 0
    near = sums[:, :, 2] > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        neighbours = sums[:, :, :2] / sums[:, :, 2:3]
    coarse_uv = np.where(covered[:, :, None], grid[:, :, :2], np.where(near[:, :, None], neighbours, np.float32(0.0)))
    return coarse_uv.astype(np.float32), near.astype(np.uint8) * np.uint8(255)


def cut_open_regions(coverage: np.ndarray, landmarks: np.ndarray, origin: tuple[int, int],
                     regions: tuple[str, ...]) -> None:
    """Cut the open `regions` (eyes, mouth) out of a box's uint8 `coverage` (in place), with
    anti-aliased edges along their contour landmarks; `origin` is the box's top-left pixel."""
    if not regions:
        return
    cut = np.zeros_like(coverage)
    polygons = [np.round((landmarks[list(indices), :2] - origin) * 16).astype(np.int32)
                for region in regions for indices in OPEN_REGIONS[region]]
    cv2.fillPoly(cut, polygons, 255, lineType=cv2.LINE_AA, shift=4)
    cv2.multiply(coverage, cv2.bitwise_not(cut), dst=coverage, scale=1.0 / 255.0)


def project_uv(landmarks: np.ndarray, uv_points: np.ndarray) -> np.ndarray:
    """Frame positions (N, 2) of UV points (N, 2) on the face: each point is carried by the
    mesh triangle it lies in (barycentric coordinates in UV space, applied to the landmarks).
    Points outside the mesh come back as NaN."""
    mesh = face_mesh()
    points = np.asarray(uv_points, np.float64).reshape(-1, 2)
    corners = mesh.uv[mesh.triangles].astype(np.float64)  # (T, 3, 2)
    a, v0, v1 = corners[:, 0], corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
    denominator = v0[:, 0] * v1[:, 1] - v0[:, 1] * v1[:, 0]
    result = np.full((len(points), 2), np.nan)
    for index, point in enumerate(points):
        p = point - a
        beta = (p[:, 0] * v1[:, 1] - p[:, 1] * v1[:, 0]) / denominator
        gamma = (v0[:, 0] * p[:, 1] - v0[:, 1] * p[:, 0]) / denominator
        inside = np.flatnonzero((beta >= -1e-9) & (gamma >= -1e-9) & (beta + gamma <= 1 + 1e-9))
        if inside.size:
            triangle = mesh.triangles[inside[0]]
            weights = np.array([1.0 - beta[inside[0]] - gamma[inside[0]], beta[inside[0]], gamma[inside[0]]])
            result[index] = weights @ landmarks[triangle, :2]
    return result


def draw_mesh_texture(canvas: np.ndarray, landmarks: np.ndarray, texture: Sprite, style: MeshStyle = MeshStyle(),
                      time_s: float = 0.0, envelope: Sprite | None = None) -> None:
    """Draw `texture` (a square RGBA picture of the UV space, prepared as a `Sprite` for its
    premultiplied mip levels) on the face with `landmarks` onto `canvas` (RGB uint8, in place).

    `time_s` drives `style.scroll`; `envelope`, when given, is a second UV-space texture whose
    alpha limits where the scrolling texture may show (it does not scroll), so that drops can
    run down a cheek without running over the eye.
    """
    if not style.opacity > 0.0:
        return
    raster = rasterise_face(landmarks, (canvas.shape[1], canvas.shape[0]))
    if raster is None:
        return
    x0, y0, x1, y1 = raster.box
    coverage = raster.upsample(raster.coarse_coverage)
    cv2.multiply(coverage, raster.outline_mask(), dst=coverage, scale=1.0 / 255.0)
    cut_open_regions(coverage, landmarks, (x0, y0), style.open_regions)
    if style.opacity < 1.0:
        coverage = cv2.convertScaleAbs(coverage, alpha=style.opacity)
    face_px = max(raster.size)
    if envelope is not None:
        limit = _sample(envelope.level_for_width(face_px), raster, (0.0, 0.0), wrap=False)
        cv2.multiply(coverage, cv2.extractChannel(limit, 3), dst=coverage, scale=1.0 / 255.0)
    shift = (style.scroll[0] * time_s % 1.0, style.scroll[1] * time_s % 1.0)
    colour = _sample(texture.level_for_width(face_px), raster, shift, wrap=any(style.scroll))
    scale_premultiplied(colour, coverage)
    roi = canvas[y0:y1, x0:x1]
    if style.lit:
        _shade_from_frame(colour, roi, coverage)
    blend_premultiplied(roi, colour, style.blend)


def _sample(level: np.ndarray, raster: FaceRaster, shift: tuple[float, float], wrap: bool) -> np.ndarray:
    """The texture `level` at every pixel of the face's box: the coarse UVs become texel
    coordinates on the coarse grid (cheap) and are upsampled straight into the remap's map."""
    size = np.array([level.shape[1], level.shape[0]], np.float32)
    texels = (raster.coarse_uv - np.array(shift, np.float32)) * size - np.float32(0.5)
    border = cv2.BORDER_WRAP if wrap else cv2.BORDER_CONSTANT
    return cv2.remap(level, raster.upsample(texels), None, cv2.INTER_LINEAR, borderMode=border, borderValue=0)


def _shade_from_frame(colour: np.ndarray, roi: np.ndarray, coverage: np.ndarray) -> None:
    """Scale the premultiplied RGBA `colour`'s RGB (in place) by the frame's brightness under it
    relative to the face's mean, so the paint keeps the skin's shading."""
    gray = cv2.cvtColor(roi, cv2.COLOR_RGB2GRAY)
    radius = max(1, round(LIGHT_BLUR_FRACTION * max(roi.shape[:2])))
    smooth = cv2.blur(gray, (2 * radius + 1, 2 * radius + 1))
    mean = cv2.mean(smooth, mask=(coverage > 128).astype(np.uint8))[0]
    if mean < 1.0:
        return
    # shade = 1 + strength * (brightness / mean - 1), in 1/128ths, clipped to LIGHT_RANGE; alpha kept (128).
    shade = cv2.convertScaleAbs(smooth, alpha=128.0 * LIGHT_STRENGTH / mean, beta=128.0 * (1.0 - LIGHT_STRENGTH))
    shade = np.clip(shade, round(128 * LIGHT_RANGE[0]), round(128 * LIGHT_RANGE[1]))
    cv2.multiply(colour, cv2.merge([shade, shade, shade, np.full_like(shade, 128)]), dst=colour, scale=1.0 / 128.0)
