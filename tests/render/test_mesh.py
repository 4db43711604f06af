"""Mesh textures: a texture painted in the face mesh's UV space lands on the right landmarks,
faces turned away are not painted, eyes and mouth stay open, and the blend modes do what they say."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from arfilter.render.mesh import (
    OPEN_REGIONS,
    MeshStyle,
    draw_mesh_texture,
    face_mesh,
    project_uv,
    rasterise_face,
    triangle_facing,
)
from arfilter.render.overlay import Sprite
from arfilter.resources import DEMO_DIR

TEXTURE_PX = 512
# Landmarks spread over the face (forehead, brows, eye corners, nose, cheeks, mouth corners, chin),
# inside the outline so that a dot around each is drawn whole.
MARKED = (151, 105, 334, 33, 263, 1, 4, 205, 425, 50, 280, 61, 291, 18, 199)


def demo_face() -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(Image.open(DEMO_DIR / "astronaut_head.png").convert("RGB"))
    landmarks = np.load(DEMO_DIR / "astronaut_head_landmarks.npy")
    return image, landmarks


def dot_texture(uv: np.ndarray, radius_px: float = 5.0) -> np.ndarray:
    """A transparent texture with one opaque white dot at `uv`."""
    texture = np.zeros((TEXTURE_PX, TEXTURE_PX, 4), np.uint8)
    centre = np.round(uv * TEXTURE_PX * 16).astype(int)
    cv2.circle(texture, (int(centre[0]), int(centre[1])), round(radius_px * 16), (255, 255, 255, 255), -1, cv2.LINE_AA, 4)
    return texture


def painted(canvas: np.ndarray, before: np.ndarray) -> np.ndarray:
    return np.abs(canvas.astype(np.int16) - before.astype(np.int16)).max(axis=2)


def test_marked_uv_points_land_on_their_landmarks_on_the_bundled_face() -> None:
    image, landmarks = demo_face()
    uv = face_mesh().uv
    for index in MARKED:
        canvas = image.copy()
        draw_mesh_texture(canvas, landmarks, Sprite.from_rgba(dot_texture(uv[index])), MeshStyle(lit=False, open_regions=()))
        weight = painted(canvas, image).astype(np.float64)
        assert weight.sum() > 0, f"landmark {index}: nothing drawn"
        ys, xs = np.mgrid[0 : weight.shape[0], 0 : weight.shape[1]]
        centroid = np.array([(xs * weight).sum(), (ys * weight).sum()]) / weight.sum()
        error = float(np.linalg.norm(centroid - landmarks[index, :2]))
        assert error <= 2.0, f"landmark {index}: the dot landed {error:.2f} px away"


def test_project_uv_carries_a_landmarks_uv_to_the_landmark() -> None:
    _, landmarks = demo_face()
    uv = face_mesh().uv
    projected = project_uv(landmarks, uv[list(MARKED)])
    assert np.abs(projected - landmarks[list(MARKED), :2]).max() < 1e-3
    assert np.isnan(project_uv(landmarks, np.array([[0.0, 0.0]]))).all()  # a corner of the texture is off the mesh


def test_triangles_facing_away_are_culled_at_large_yaw() -> None:
    mesh = face_mesh()
    frontal = triangle_facing(mesh.posed(0.0, interocular_px=80))
    turned = triangle_facing(mesh.posed(70.0, interocular_px=80))
    assert (frontal > 0).mean() > 0.97
    # Nose to image-right: the image-right side of the face (the far cheek) turns away.
    far_cheek = mesh.triangles[:, 0] == 454
    assert (turned[far_cheek] < 0).all()

    # A texture painted only on the triangles that face away draws nothing at all.
    away = turned < 0
    texture = np.zeros((TEXTURE_PX, TEXTURE_PX, 4), np.uint8)
    for triangle in mesh.triangles[away]:
        cv2.fillConvexPoly(texture, np.round(mesh.uv[triangle] * TEXTURE_PX).astype(np.int32), (255, 0, 0, 255))
    texture = cv2.erode(texture, np.ones((9, 9), np.uint8))  # keep clear of the edges shared with visible triangles
    drawn = {}
    for yaw in (70.0, -70.0):  # -70: the same triangles, now facing the camera
        canvas = np.zeros((400, 400, 3), np.uint8)
        landmarks = mesh.posed(yaw, center_xy=(200, 200), interocular_px=80)
        draw_mesh_texture(canvas, landmarks, Sprite.from_rgba(texture), MeshStyle(lit=False, open_regions=()))
        drawn[yaw] = int((canvas[:, :, 0] > 0).sum())
    # Only the odd pixel on the silhouette, where a grazing pixel's footprint reaches the far side.
    assert drawn[-70.0] > 10_000 and drawn[70.0] < drawn[-70.0] / 500


def test_the_nearer_surface_wins_where_the_turned_face_overlaps_itself() -> None:
    """At 50 degrees the nose hides part of the far cheek: the nose's paint is what shows there."""
    mesh = face_mesh()
    landmarks = mesh.posed(50.0, center_xy=(200, 200), interocular_px=100)
    raster = rasterise_face(landmarks, (400, 400))
    assert raster is not None
    tip = landmarks[4, :2]  # the nose tip, in front of the far cheek
    column, row = np.round(raster.to_grid(tip[None])[0]).astype(int)
    assert np.linalg.norm(raster.coarse_uv[row, column] - mesh.uv[4]) < 0.02


def solid_texture(colour: tuple[int, int, int, int]) -> Sprite:
    return Sprite.from_rgba(np.full((TEXTURE_PX, TEXTURE_PX, 4), colour, np.uint8))


def test_eyes_and_mouth_show_through_unless_closed_by_the_author() -> None:
    image, landmarks = demo_face()
    centres = {
        "eyes": landmarks[list(OPEN_REGIONS["eyes"][0])].mean(axis=0),
        "mouth": landmarks[[13, 14]].mean(axis=0),
    }
    open_canvas = image.copy()
    draw_mesh_texture(open_canvas, landmarks, solid_texture((0, 0, 255, 255)), MeshStyle(lit=False))
    closed_canvas = image.copy()
    draw_mesh_texture(closed_canvas, landmarks, solid_texture((0, 0, 255, 255)), MeshStyle(lit=False, open_regions=()))
    x, y = np.round(centres["eyes"]).astype(int)
    assert (open_canvas[y, x] == image[y, x]).all()
    assert (closed_canvas[y, x] == (0, 0, 255)).all()
    cheek = np.round(landmarks[205]).astype(int)
    assert (open_canvas[cheek[1], cheek[0]] == (0, 0, 255)).all()


def test_the_edge_is_feathered_and_the_face_is_painted_without_seams() -> None:
    image, landmarks = demo_face()
    canvas = np.zeros_like(image)
    draw_mesh_texture(canvas, landmarks, solid_texture((255, 255, 255, 255)), MeshStyle(lit=False, open_regions=()))
    values = canvas[:, :, 0]
    assert ((values > 0) & (values < 255)).any()  # partly covered pixels along the outline
    inside = cv2.erode((values > 0).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert inside.sum() > 5000
    assert values[inside].min() == 255  # no crack between triangles


def test_opacity_and_multiply_blend() -> None:
    image, landmarks = demo_face()
    cheek = tuple(np.round(landmarks[205]).astype(int)[::-1])
    half = image.copy()
    draw_mesh_texture(half, landmarks, solid_texture((0, 0, 0, 255)), MeshStyle(lit=False, opacity=0.5))
    assert np.allclose(half[cheek].astype(int), image[cheek].astype(int) / 2, atol=2)
    white = image.copy()
    draw_mesh_texture(white, landmarks, solid_texture((255, 255, 255, 255)), MeshStyle(lit=False, blend="multiply"))
    assert np.abs(white.astype(int) - image.astype(int)).max() <= 1  # multiplying by white changes nothing
    red = image.copy()
    draw_mesh_texture(red, landmarks, solid_texture((255, 0, 0, 255)), MeshStyle(lit=False, blend="multiply"))
    assert red[cheek][0] == pytest.approx(image[cheek][0], abs=1) and red[cheek][1] == 0


def test_lighting_keeps_the_skins_shading() -> None:
    """Lit paint is darker over the darker half of a face than over the lighter half."""
    mesh = face_mesh()
    landmarks = mesh.posed(0.0, center_xy=(200, 200), interocular_px=100)
    frame = np.full((400, 400, 3), 200, np.uint8)
    frame[:, :200] = 90
    canvas = frame.copy()
    draw_mesh_texture(canvas, landmarks, solid_texture((200, 200, 200, 255)), MeshStyle(lit=True))
    left, right = np.round(landmarks[205, :2]).astype(int), np.round(landmarks[425, :2]).astype(int)
    assert int(canvas[left[1], left[0], 0]) < int(canvas[right[1], right[0], 0]) - 40


def test_scrolling_texture_moves_with_time_inside_its_envelope() -> None:
    image, landmarks = demo_face()
    stripes = np.zeros((TEXTURE_PX, TEXTURE_PX, 4), np.uint8)
    stripes[::64] = (0, 0, 255, 255)
    stripes = cv2.dilate(stripes, np.ones((9, 1), np.uint8))
    envelope = np.zeros((TEXTURE_PX, TEXTURE_PX, 4), np.uint8)
    envelope[:, : TEXTURE_PX // 2] = 255  # image-left half of the face only
    style = MeshStyle(lit=False, scroll=(0.0, 0.25))
    frames = []
    for time_s in (0.0, 0.1):
        canvas = image.copy()
        draw_mesh_texture(canvas, landmarks, Sprite.from_rgba(stripes), style, time_s=time_s,
                          envelope=Sprite.from_rgba(envelope))
        frames.append(painted(canvas, image) > 8)
    assert frames[0].any() and not (frames[0] == frames[1]).all()
    midline = round(landmarks[[10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 2], 0].max())  # u = 0.5
    assert frames[0][:, : midline].sum() > 100 * frames[0][:, midline + 3 :].sum()


def test_a_face_off_the_frame_or_invisible_draws_nothing() -> None:
    mesh = face_mesh()
    canvas = np.zeros((100, 100, 3), np.uint8)
    draw_mesh_texture(canvas, mesh.posed(0.0, center_xy=(500, 500)), solid_texture((255, 0, 0, 255)))
    draw_mesh_texture(canvas, mesh.posed(0.0, center_xy=(50, 50)), solid_texture((255, 0, 0, 255)), MeshStyle(opacity=0.0))
    assert canvas.max() == 0
    with pytest.raises(ValueError, match="landmarks must be"):
        draw_mesh_texture(canvas, np.zeros((10, 2)), solid_texture((255, 0, 0, 255)))
