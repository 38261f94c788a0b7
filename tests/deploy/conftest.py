"""Fixtures for the deploy tests: the seed model saved to a directory, buildah and the base
image the container tests build on (made by .ci/base-image, cached between runs)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
REQUIRE_BUILDAH = "MLSERVE_TEST_REQUIRE_BUILDAH"
SEED_ROWS = [[0.1, -0.2, 0.3, -0.4], [0.5, 0.6, -0.7, 0.8]]
# buildah as the tests drive it: no daemon, no kernel overlay, no runtime (root only)
BUILDAH = ["buildah", "--storage-driver", "vfs"]


@pytest.fixture
def saved_seed(tmp_path: Path, seed_model: Any) -> Path:
    """The seed model saved with mlserve.save_model (so with its requirements.txt)."""
    import mlserve

    path = tmp_path / "seed-model"
    mlserve.save_model(seed_model, path)
    return path


def require_buildah() -> None:
    """Skip without buildah (or root), or fail when MLSERVE_TEST_REQUIRE_BUILDAH=1 says it
    must be there (as .ci/run does)."""
    missing = []
    if shutil.which("buildah") is None:
        missing.append("buildah is not installed (apt-get install -y buildah debootstrap)")
    if os.geteuid() != 0:
        missing.append("buildah with --storage-driver vfs --isolation chroot needs root")
    if missing:
        message = "; ".join(missing)
        if os.environ.get(REQUIRE_BUILDAH) == "1":
            pytest.fail(f"{REQUIRE_BUILDAH}=1 but {message}")
        pytest.skip(f"{message} ({REQUIRE_BUILDAH}=1 turns this into a failure)")


@pytest.fixture(scope="session")
def base_image() -> str:
    """A local Debian + Python image: MLSERVE_TEST_BASE_IMAGE, else .ci/base-image's (built
    once, about a minute or more; reused by later runs)."""
    require_buildah()
    named = os.environ.get("MLSERVE_TEST_BASE_IMAGE")
    if named:
        return named
    done = subprocess.run(
        [str(REPO / ".ci" / "base-image")], capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        pytest.fail(f".ci/base-image failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1]


def buildah(
    *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``buildah --storage-driver vfs ARGS``."""
    done = subprocess.run(
        [*BUILDAH, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"buildah {' '.join(args)} failed: {done.stderr}")
    return done


def image_names() -> set[str]:
    """Every name:tag in buildah's (vfs) storage."""
    import json

    listed = json.loads(buildah("images", "--json").stdout or "[]")
    return {name for image in listed for name in (image.get("names") or [])}


def container_ids() -> set[str]:
    """Every buildah working container."""
    import json

    listed = json.loads(buildah("containers", "--json").stdout or "[]")
    return {c["id"] for c in listed or []}
