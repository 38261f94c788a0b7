"""--max-columns, --max-rows and --max-request-memory on a real server: 413
RESOURCE_EXHAUSTED, before parsing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from .helpers import SEED_BODY, Server, rss_bytes, server_env, start_server

MiB = 1024 * 1024
SEED_JSON = {"dataframe_split": {**SEED_BODY["dataframe_split"], "columns": ["a", "b", "c", "d"]}}


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


def _peak_growth(
    worker: int, send: Callable[[], requests.Response]
) -> tuple[requests.Response, int]:
    """The answer to ``send()`` and how far the worker's resident memory peaked above where it
    was before (the kernel's high-water mark, reset first through ``clear_refs``)."""
    Path(f"/proc/{worker}/clear_refs").write_text("5")
    before = rss_bytes(worker)
    answer = send()
    for line in Path(f"/proc/{worker}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return answer, int(line.split()[1]) * 1024 - before
    raise AssertionError("no VmHWM")


@pytest.mark.slow
def test_a_body_that_would_take_too_much_memory_is_413_before_it_does(
    typed_model_dir: Path, tmp_path: Path
) -> None:
    """A valid 24 MiB JSON body of float rows takes a worker about 250 MiB to decode and
    predict on. Under --max-request-memory 128MiB it is refused with 413 before it is parsed,
    and the worker grows by little more than the body it buffered; without the limit the same
    body is answered 200 and the worker grows past 128 MiB (so the limit was what stopped it)."""
    row = json.dumps([0.123456789012, -1.5, 3.25, 0.001])
    rows = ",".join([row] * (24 * MiB // (len(row) + 1)))
    body = '{"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": [' + rows + "]}}"
    headers = {"Content-Type": "application/json"}
    args = ("-m", str(typed_model_dir), "--max-rows", "0", "--no-access-log")

    def post(srv: Server) -> Callable[[], requests.Response]:
        return lambda: requests.post(f"{srv.url}/invocations", data=body, headers=headers,
                                     timeout=120)  # fmt: skip

    with start_server(tmp_path, *args, "--max-request-memory", "128MiB") as srv:
        (worker,) = srv.wait_workers(1)
        refused, grown = _peak_growth(worker, post(srv))
        assert (refused.status_code, refused.json()["error_code"]) == (413, "RESOURCE_EXHAUSTED")
        assert "max_request_memory" in refused.json()["message"]
        assert requests.post(f"{srv.url}/invocations", json=SEED_JSON, timeout=10).ok
    with start_server(tmp_path, *args, env=server_env(MLSERVE_MAX_REQUEST_MEMORY="0")) as srv:
        (worker,) = srv.wait_workers(1)
        answered, grown_unbounded = _peak_growth(worker, post(srv))
        assert answered.status_code == 200, answered.text[:200]
    print(f"\nworker peak growth for a 24 MiB JSON body: {grown / MiB:.0f} MiB refused under "
          f"128 MiB, {grown_unbounded / MiB:.0f} MiB answered without a limit")  # fmt: skip
    assert grown < 100 * MiB
    assert grown_unbounded > 128 * MiB
