"""Camera names for the picker, from a fake sysfs: real cameras named, virtual ones (our own output) left out."""

from __future__ import annotations

from pathlib import Path

from arfilter.io.sources.cameras import CameraCycle, CameraInfo, camera_info, real_cameras


def fake_sysfs(root: Path) -> Path:
    """video0 and video2 are USB cameras; video4 is a v4l2loopback device (no hardware, under devices/virtual)."""
    classes = root / "class" / "video4linux"
    classes.mkdir(parents=True)
    for index, name in ((0, "Integrated Camera: Integrated C"), (2, "Logitech BRIO")):
        device = root / "devices" / "pci0000:00" / f"video{index}"
        (device / "device").mkdir(parents=True)
        (device / "name").write_text(name + "\n")
        (classes / f"video{index}").symlink_to(device)
    loopback = root / "devices" / "virtual" / "video4linux" / "video4"
    loopback.mkdir(parents=True)
    (loopback / "name").write_text("arfilter\n")
    (classes / "video4").symlink_to(loopback)
    return classes


def test_names_come_from_sysfs(tmp_path):
    sysfs = fake_sysfs(tmp_path)
    assert camera_info(2, sysfs) == CameraInfo(2, "Logitech BRIO", False)
    assert camera_info(4, sysfs).virtual
    assert camera_info(7, sysfs) == CameraInfo(7, "")  # no sysfs entry (other platforms): the index alone
    assert camera_info(0, sysfs).describe() == "camera 0: Integrated Camera: Integrated C"
    assert CameraInfo(3, "").describe() == "camera 3"


def test_the_virtual_camera_is_never_offered_as_an_input(tmp_path):
    sysfs = fake_sysfs(tmp_path)
    assert [info.index for info in real_cameras([0, 2, 4], sysfs)] == [0, 2]


def test_the_cycle_goes_round_and_lists_once(tmp_path):
    sysfs = fake_sysfs(tmp_path)
    calls = []

    def lister() -> list[int]:
        calls.append(1)
        return [0, 2, 4]

    cycle = CameraCycle(lister, sysfs)
    after_0 = cycle.after(0)
    assert after_0 is not None and after_0.name == "Logitech BRIO"
    assert [cycle.after(2).index, cycle.after(None).index, cycle.after(9).index] == [0, 0, 0]  # type: ignore[union-attr]
    assert len(calls) == 1
    cycle.refresh()
    cycle.after(0)
    assert len(calls) == 2


def test_no_other_camera(tmp_path):
    sysfs = fake_sysfs(tmp_path)
    assert CameraCycle(lambda: [0], sysfs).after(0) is None
    assert CameraCycle(lambda: [], sysfs).after(None) is None
