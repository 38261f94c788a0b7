"""The entry point: found by mlserve, and reported broken (others unaffected) without
its framework."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import mlserve

# a fresh interpreter where importing the framework fails as if it were not installed
_PROBE = """
import json, sys
sys.modules[sys.argv[1]] = None
import mlserve
print(json.dumps({
    i.name: {"ok": i.ok, "dist": i.distribution, "error": str(i.error or "")}
    for i in mlserve.list_flavors()
}))
"""


@pytest.mark.parametrize(
    ("flavor_name", "module", "requirement"),
    [
        ("onnx", "onnxruntime", "onnxruntime"),
    ],
    ids=["onnx-without-onnxruntime"],
)
def test_missing_framework_is_reported_and_others_still_work(
    flavor_name: str, module: str, requirement: str
) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, module], capture_output=True, text=True, check=True
    ).stdout
    flavors = json.loads(out)
    broken = flavors[flavor_name]
    assert not broken["ok"]
    assert broken["dist"] == "mlserve-onnx"
    assert f"pip install {requirement}" in broken["error"]
    assert flavors["sklearn"]["ok"]
    assert flavors["python_function"]["ok"]


def test_entry_point_is_registered_from_this_distribution() -> None:
    infos = {i.name: i for i in mlserve.list_flavors()}
    for name in ["onnx"]:
        assert infos[name].ok, infos[name].error
        assert infos[name].distribution == "mlserve-onnx"
        assert mlserve.get_flavor(name).name == name
