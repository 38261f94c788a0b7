"""How a server starts (mlserve/server/_runner.py's start_mode): one case per row of its decision
table, first row first, each with the later rows' conditions also true where that shows the
row's precedence. The modes themselves run in the real-server tests (test_runner.py,
test_runner_preload.py, test_in_env.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlserve.server._config import ServerConfig
from mlserve.server._runner import StartMode, start_mode

DOCS = Path(__file__).resolve().parents[2] / "docs" / "serving.md"

# (row, config fields, environment, fork_safe, mode)
ROWS = [
    ("1-env-manager", {"env_manager": "virtualenv", "dev": True, "preload": False},
     {"MLSERVE_PRELOAD": "false"}, False, StartMode.IN_ENVIRONMENT),
    ("2-dev", {"dev": True, "preload": False}, {"MLSERVE_PRELOAD": "false"}, False,
     StartMode.DEV),
    ("3-no-preload", {"preload": False}, {}, False, StartMode.LOAD_IN_WORKERS),
    ("3-re-executed-parent", {"preload": True}, {"MLSERVE_PRELOAD": "false"}, False,
     StartMode.LOAD_IN_WORKERS),
    ("4-not-fork-safe", {}, {"MLSERVE_PRELOAD": "true"}, False,
     StartMode.RESTART_WITHOUT_PRELOAD),
    ("5-preload-before-loading", {}, {}, None, StartMode.PRELOAD),
    ("5-preload-fork-safe", {}, {}, True, StartMode.PRELOAD),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "environ", "fork_safe", "mode"), [row[1:] for row in ROWS], ids=[r[0] for r in ROWS]
)
def test_each_row_of_the_start_up_table(
    fields: dict[str, object], environ: dict[str, str], fork_safe: bool | None, mode: StartMode
) -> None:
    config = ServerConfig(model_uri="m", **fields)  # type: ignore[arg-type]
    assert start_mode(config, environ, fork_safe=fork_safe) is mode


def test_every_mode_has_a_row() -> None:
    assert {row[-1] for row in ROWS} == set(StartMode)


def test_the_docs_table_names_every_mode_in_the_order_decided() -> None:
    """docs/serving.md's start-up table lists the modes in start_mode's docstring order."""
    docstring = start_mode.__doc__ or ""
    table = docstring[docstring.index("===") :]
    in_code = [m for m in re.findall(r"\b[A-Z][A-Z_]+\b", table) if m in StartMode.__members__]
    text = DOCS.read_text()
    docs_table = text[text.index("| row | when | mode |") :].split("\n\n", 1)[0]
    in_docs = re.findall(r"`([A-Z][A-Z_]+)`", docs_table)
    assert in_code == in_docs, (in_code, in_docs)
    assert sorted(in_docs) == sorted(StartMode.__members__)
