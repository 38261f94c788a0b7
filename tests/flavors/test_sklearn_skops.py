"""``skops_trusted_types``: MLflow's argument to ``mlflow.sklearn.save_model``, taken as MLflow
takes it (the saver names the types; one the file holds that the list leaves out is refused),
and the model it writes loads in real MLflow 3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlserve.sklearn
import numpy as np
import pytest
import yaml
from store.mlflow._mlflow_peer import check_peer, peer_python, run_peer_script

import mlserve
from mlserve.errors import InvalidParameterValue

TREE = "sklearn.tree._tree.Tree"


def _section(path: Path) -> dict[str, Any]:
    return yaml.safe_load((path / "MLmodel").read_text())["flavors"]["sklearn"]


def test_the_list_is_recorded_as_given(seed_model: Any, tmp_path: Path) -> None:
    listed = [TREE, "numpy.dtype"]  # more than the file needs: MLflow records it as given
    mlserve.sklearn.save_model(
        seed_model, tmp_path / "m", serialization_format="skops", skops_trusted_types=listed
    )
    assert _section(tmp_path / "m")["skops_trusted_types"] == listed


def test_without_the_list_the_files_types_are_recorded(seed_model: Any, tmp_path: Path) -> None:
    mlserve.save_model(seed_model, tmp_path / "m", serialization_format="skops")
    assert _section(tmp_path / "m")["skops_trusted_types"] == [TREE]


@pytest.mark.parametrize("listed", [[], ["numpy.dtype"]], ids=["empty", "other-type"])
def test_a_list_that_leaves_a_type_out_is_refused_and_nothing_is_written(
    seed_model: Any, tmp_path: Path, listed: list[str]
) -> None:
    with pytest.raises(InvalidParameterValue, match=r"leaves out: sklearn\.tree\._tree\.Tree"):
        mlserve.sklearn.save_model(
            seed_model, tmp_path / "m", serialization_format="skops", skops_trusted_types=listed
        )
    assert list(tmp_path.iterdir()) == []  # no model directory, no staging left behind


LOAD_IN_MLFLOW = """\
import mlflow
import numpy as np
model = mlflow.pyfunc.load_model(ARGS["model"])
emit(np.asarray(model.predict(np.asarray(ARGS["rows"]))).tolist())
"""


def test_mlflow_loads_the_model_saved_with_its_argument(
    seed_model: Any, seed_data: Any, tmp_path: Path
) -> None:
    python = peer_python(3)
    check_peer(python, 3)
    X, _ = seed_data
    path = tmp_path / "m"
    mlserve.sklearn.save_model(
        seed_model, path, serialization_format="skops", skops_trusted_types=[TREE]
    )
    got = run_peer_script(
        python, LOAD_IN_MLFLOW, cwd=tmp_path, args={"model": str(path), "rows": X[:4].tolist()}
    )
    np.testing.assert_array_equal(got, seed_model.predict(X[:4]))
