"""Weight interpolation between a network and its fine-tune (training/interpolate.py), on generated data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.training.test_ferplus import make_dataset


def tiny(width: float, seed: int):
    import keras

    from training.model import ModelConfig, build_model

    keras.utils.set_random_seed(seed)
    return build_model(ModelConfig().scaled(width))


def test_the_mix_is_linear_in_the_weights_and_refuses_another_architecture():
    from training.interpolate import interpolate

    start, end = tiny(0.25, 1), tiny(0.25, 2)
    for alpha in (0.0, 0.3, 1.0):
        for mixed, a, b in zip(interpolate(start, end, alpha), start.get_weights(), end.get_weights()):
            np.testing.assert_allclose(mixed, (1 - alpha) * a + alpha * b, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="different architectures"):
        interpolate(start, tiny(0.5, 3), 0.5)


def test_the_mix_is_chosen_on_val_and_written_with_its_curve(tmp_path):
    import keras

    import training.model  # noqa: F401  (registers the custom layers)
    from training import interpolate

    root = make_dataset(tmp_path / "data", per_label=2)
    tiny(0.25, 1).save(tmp_path / "a.keras")
    tiny(0.25, 2).save(tmp_path / "b.keras")
    # The fine-tune's export metadata beside it: its training command leads the mix's provenance.
    (tmp_path / "emotion.json").write_text(json.dumps({"training_command": "python training/train.py --targets mix"}))
    out = tmp_path / "mix"
    assert interpolate.main(["--from", str(tmp_path / "a.keras"), "--to", str(tmp_path / "b.keras"), "--data", str(root),
                             "--alphas", "0,0.5,1", "--out", str(out)]) == 0
    report = json.loads((out / "interpolation.json").read_text())
    assert [row["alpha"] for row in report["curve"]] == [0.0, 0.5, 1.0]
    best = max(report["curve"], key=lambda row: row["score"])
    assert report["chosen_alpha"] == best["alpha"]
    for row in report["curve"]:
        assert row["score"] == pytest.approx((row["fer2013_balanced"] + row["ferplus_balanced"]) / 2)
    chosen = keras.models.load_model(out / "best.keras", compile=False).get_weights()
    expected = interpolate.interpolate(keras.models.load_model(tmp_path / "a.keras", compile=False),
                                       keras.models.load_model(tmp_path / "b.keras", compile=False), best["alpha"])
    for a, b in zip(chosen, expected):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    fine_tune, mix = json.loads((out / "command.json").read_text())["command"].splitlines()
    assert fine_tune == "python training/train.py --targets mix" and mix.startswith("python training/interpolate.py --from")


@pytest.mark.parametrize("change, says", [
    ({"--alphas": "0,2"}, "between 0 and 1"),
    ({"--alphas": "half"}, "not a comma-separated list"),
    ({"--to": "missing.keras"}, "not found"),
])
def test_a_bad_call_is_refused_in_one_line_and_writes_nothing(tmp_path, capsys, change, says):
    from training import interpolate

    root = make_dataset(tmp_path / "data", per_label=1)
    tiny(0.25, 1).save(tmp_path / "a.keras")
    args = {"--from": str(tmp_path / "a.keras"), "--to": str(tmp_path / "a.keras"), "--data": str(root),
            "--out": str(tmp_path / "mix"), **change}
    assert interpolate.main([part for pair in args.items() for part in pair]) == 2
    error = capsys.readouterr().err.strip()
    assert says in error and "\n" not in error
    assert not (tmp_path / "mix").exists()
