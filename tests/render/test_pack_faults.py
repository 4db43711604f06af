"""Faults of filter packs: each broken pack is one warning, the others load; budgets are enforced
before decoding."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from arfilter.errors import PackError
from arfilter.render.packs import BUILTIN_PACKS_DIR, MAX_PACK_LAYERS, PackSet, discover_packs, load_pack
from arfilter.vision.labels import EMOTION_LABELS
from tests.fakes import BUILTIN_PACK_NAMES
from tests.faults import cli_process, corrupt_pixels_keep_checksums, rgba_png, run_process, subprocess_env, write_pack

# --------------------------------------------------------------------------- 4-5. packs


def test_pack_faults_are_one_warning_each_and_the_rest_load(tmp_path):
    packs = tmp_path / "packs"
    write_pack(packs / "good", "good")
    write_pack(packs / "nul", "nul", images=["a\\u0000b.png"])
    write_pack(packs / "long", "long", images=["x" * 300 + ".png"])
    write_pack(packs / "empty-layers", "empty-layers", manifest='name = "empty-layers"\n[emotions.default]\nlayers = []\n')
    outside = tmp_path / "outside.toml"
    outside.write_text('name = "outside"\n')
    (packs / "toml-link").mkdir()
    (packs / "toml-link" / "pack.toml").symlink_to(outside)
    loaded, errors = discover_packs(BUILTIN_PACKS_DIR, [packs], EMOTION_LABELS)
    assert [pack.name for pack in loaded] == [*BUILTIN_PACK_NAMES, "good"]
    assert len(errors) == 4 and all("\n" not in error for error in errors), errors
    by_pack = {Path(error.split(":")[0]).parent.name: error for error in errors}
    assert "must be a non-empty list" in by_pack["empty-layers"]
    assert "too long" in by_pack["long"]
    assert "NUL" in by_pack["nul"]
    assert "links outside the pack folder" in by_pack["toml-link"]


def test_an_unexpected_error_in_one_pack_is_a_warning(tmp_path, monkeypatch):
    import arfilter.render.packs.catalogue as packs_module

    write_pack(tmp_path / "packs" / "buggy", "buggy")
    original = packs_module.load_pack

    def load(folder, labels):
        if Path(folder).name == "buggy":
            raise RuntimeError("a bug")
        return original(folder, labels)

    monkeypatch.setattr(packs_module, "load_pack", load)
    loaded, errors = discover_packs(BUILTIN_PACKS_DIR, [tmp_path / "packs"], EMOTION_LABELS)
    assert [pack.name for pack in loaded] == list(BUILTIN_PACK_NAMES)
    assert errors == [f"{tmp_path / 'packs' / 'buggy'}: cannot load the pack (RuntimeError: a bug)"]


def test_a_pack_over_budget_is_refused_before_decoding(tmp_path):
    """40 distinct blank 2048 px PNGs: under 1 MB on disk, over 600 MB decoded."""
    folder = tmp_path / "huge"
    names = [f"blank{index}.png" for index in range(40)]
    write_pack(folder, "huge", images=names)
    Image.new("RGBA", (2048, 2048), (0, 0, 0, 0)).save(folder / names[0])
    for name in names[1:]:  # forty files, each decoded on its own: copies cost nothing to make
        shutil.copy(folder / names[0], folder / name)
    start = time.perf_counter()
    with pytest.raises(PackError, match=r"Mpx; a pack may hold at most 16 Mpx") as caught:
        load_pack(folder, EMOTION_LABELS)
    assert time.perf_counter() - start < 3.0, "refused from the headers, not by decoding"
    assert "\n" not in str(caught.value)
    many = write_pack(tmp_path / "many", "many", images=["dot.png"] * (MAX_PACK_LAYERS + 1))
    with pytest.raises(PackError, match=f"at most {MAX_PACK_LAYERS}"):
        load_pack(many, EMOTION_LABELS)


def test_packs_not_in_use_are_not_decoded_and_a_broken_one_is_dropped_when_chosen(tmp_path):
    folder = write_pack(tmp_path / "packs" / "late", "late", images=["big.png"])
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 4), dtype=np.uint8)).save(folder / "big.png")
    corrupt_pixels_keep_checksums(folder / "big.png")
    packs, errors = discover_packs(BUILTIN_PACKS_DIR, [tmp_path / "packs"], EMOTION_LABELS)
    assert errors == [] and [pack.name for pack in packs][-1] == "late"
    assert all(image._sprite is None for pack in packs for layers in pack.layers_by_label.values() for layer in layers
               for image in layer.images())

    pack_set = PackSet(packs, "shades")
    cycle = [pack_set.next() for _ in BUILTIN_PACK_NAMES]
    assert cycle == [*BUILTIN_PACK_NAMES[:-1], "shades"], "late is dropped on the way"
    assert pack_set.names == list(BUILTIN_PACK_NAMES)
    assert len(pack_set.errors) == 1 and "late" in pack_set.errors[0] and "cannot decode PNG" in pack_set.errors[0]
    with pytest.raises(PackError, match="cannot decode PNG"):
        PackSet(discover_packs(BUILTIN_PACKS_DIR, [tmp_path / "packs"], EMOTION_LABELS)[0], "late")


def test_a_reader_that_leaves_early_stops_the_listing_quietly(tmp_path):
    """`arfilter --list-packs | head -1`: no traceback when the pipe closes; the SIGPIPE exit status."""
    process = subprocess.Popen(cli_process("--list-packs"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=subprocess_env(tmp_path))
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first line is written
    error = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert error == ""


def test_list_packs_survives_every_broken_user_pack(tmp_path):
    user_packs = tmp_path / "config" / "arfilter" / "packs"
    write_pack(user_packs / "nul", "nul", images=["a\\u0000b.png"])
    write_pack(user_packs / "long", "long", images=["y" * 300 + ".png"])
    code, out, err = run_process(tmp_path, "--list-packs")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == list(BUILTIN_PACK_NAMES)
    assert len(err) == 2 and all(line.startswith("arfilter: warning: skipped filter pack: ") for line in err), err


def test_a_pack_image_in_an_unreadable_folder_is_one_warning(tmp_path):
    folder = write_pack(tmp_path / "config" / "arfilter" / "packs" / "locked", "locked", images=["sub/dot.png"],
                        manifest='name = "locked"\n[[emotions.default.layers]]\nimage = "sub/dot.png"\n'
                                 'anchor = "nose_tip"\nscale = 1.0\n')
    (folder / "sub").mkdir()
    rgba_png(folder / "sub" / "dot.png")
    (folder / "sub").chmod(0o000)
    try:
        code, out, err = run_process(tmp_path, "--list-packs", privileged=False)
    finally:
        (folder / "sub").chmod(0o755)
    assert code == 0 and len(out.splitlines()) == len(BUILTIN_PACK_NAMES), (out, err)
    assert len(err) == 1 and "locked" in err[0] and "permission denied" in err[0], err
