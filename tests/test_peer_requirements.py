"""MLSERVE_TEST_REQUIRE_PEERS=1 (the README's test command) turns on every peer's own variable,
so a suite whose peer is missing fails in CI instead of skipping."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).parent


def _required(**extra: str) -> dict[str, str | None]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLSERVE_TEST_REQUIRE_")}
    env.update(extra)
    code = (
        "import json, os, conftest; "
        "print(json.dumps({n: os.environ.get(n) for n in conftest.PEER_REQUIREMENTS}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=TESTS, env=env, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def test_peers_1_requires_every_peer_and_nothing_is_required_without_it() -> None:
    assert set(_required(MLSERVE_TEST_REQUIRE_PEERS="1").values()) == {"1"}
    assert set(_required().values()) == {None}
    # one peer's own variable still works alone
    assert _required(MLSERVE_TEST_REQUIRE_UV="1")["MLSERVE_TEST_REQUIRE_UV"] == "1"


def test_every_require_variable_the_tests_read_is_in_the_list() -> None:
    import conftest

    read = set()
    for path in TESTS.rglob("*.py"):
        read |= set(re.findall(r"MLSERVE_TEST_REQUIRE_[A-Z0-9]+", path.read_text()))
    read -= {"MLSERVE_TEST_REQUIRE_PEERS"}
    assert read == set(conftest.PEER_REQUIREMENTS)
