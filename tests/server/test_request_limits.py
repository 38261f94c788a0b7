"""--max-columns and --max-rows on a real server: 413 RESOURCE_EXHAUSTED, before parsing."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from .helpers import server_env, start_server


@pytest.mark.slow
def test_column_and_row_limits_over_http(typed_model_dir: Path, tmp_path: Path) -> None:
    env = server_env(MLSERVE_MAX_ROWS="3")
    with start_server(tmp_path, "-m", str(typed_model_dir), "--max-columns", "6", env=env) as srv:

        def csv(columns: int, rows: int) -> requests.Response:
            names = ["a", "b", "c", "d", *(f"x{i}" for i in range(columns - 4))]
            body = ",".join(names) + "\n" + ("\n".join([",".join(["0.1"] * columns)] * rows))
            headers = {"Content-Type": "text/csv"}
            return requests.post(f"{srv.url}/invocations", data=body, headers=headers, timeout=10)

        assert csv(6, 3).status_code == 200  # undeclared columns are dropped, as MLflow does
        wide = csv(7, 1)
        assert (wide.status_code, wide.json()["error_code"]) == (413, "RESOURCE_EXHAUSTED")
        assert "7 columns; the limit is 6" in wide.json()["message"]
        tall = csv(4, 4)
        assert tall.status_code == 413 and "4 rows; the limit is 3" in tall.json()["message"]
        v2 = {
            "inputs": [
                {"name": f"x{i}", "shape": [1], "datatype": "FP64", "data": [1.0]} for i in range(7)
            ]
        }
        answer = requests.post(f"{srv.url}/v2/models/typed/infer", json=v2, timeout=10)
        assert answer.status_code == 413 and "7 columns" in answer.json()["error"]
