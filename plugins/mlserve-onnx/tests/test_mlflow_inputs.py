"""How a request meets an ONNX graph's inputs: the same request to ``mlflow models serve`` and to
our server, for the same MLflow-written ONNX model, gets the same answer.

The models are small graphs built with ``onnx.helper`` and written by ``mlflow.onnx.save_model``
(MLflow 3.17.2 in its own virtualenv, with onnx and onnxruntime), without a signature, with a
column signature or with a tensor signature (``infer_signature`` of an input example): one input
of rank 2 or 1, two inputs of rank 2 or 1, int64, float-and-int64 and string inputs (a string
graph with a column and with a tensor signature too), and a long signature for a float graph.
Both servers run as real processes on 127.0.0.1. For each case of ``SAME``: the same status,
the same ``error_code`` for an error, the same JSON for a 2xx. ``DIFFERENT`` holds the requests
we answer otherwise on purpose (the differences tables of docs/rest-api.md and docs/payloads.md);
the test checks that they still differ. ``PENDING`` holds differences that come from the
signature enforcement in mlserve's core, not from this plugin (strict xfails, so they have to
move to ``SAME`` once the core matches).

Needs MLflow's venv with onnx and onnxruntime (``.ci/mlflow-venvs`` builds it): skipped without
it, a failure when ``MLSERVE_TEST_REQUIRE_MLFLOW=1``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _inputs_cases import _MODELS, DIFFERENT, PENDING, SAME, WRITE_MODELS, Case
from _mlflow_peer import stop_session, wait_ping

from mlserve.testing import ServedModel, serve_model

pytestmark = pytest.mark.slow


def _free_port(taken: set[int]) -> int:
    # MLflow's servers take seconds to bind the port chosen for them, while ours start and bind
    # ports the system hands out (Linux: 32768-60999 by default), so MLflow's come from below
    # that range, where a port the system hands out meanwhile cannot land
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        if port not in taken:
            taken.add(port)
            return port
    raise AssertionError("no free port found for MLflow's server in 20000-32000")


def _post(port: int, case: Case) -> tuple[int, Any]:
    body = case.body if isinstance(case.body, str) else json.dumps(case.body)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", "/invocations", body, {"Content-Type": case.content_type})
        response = connection.getresponse()
        status, raw = response.status, response.read()
    finally:
        connection.close()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", errors="replace")


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, mlflow_onnx_python: Path
) -> Iterator[dict[str, tuple[int, Any]]]:
    """``{model: (MLflow's port, our ServedModel)}``, both serving MLflow's model directory."""
    python = mlflow_onnx_python
    root = tmp_path_factory.mktemp("onnx-inputs")
    (root / "write_models.py").write_text(WRITE_MODELS)
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true"}
    done = subprocess.run(
        [python, root / "write_models.py", root / "models"],
        capture_output=True, text=True, env=env, timeout=300, cwd=root,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    bin_dir = python.parent
    # MLflow starts uvicorn by name, from its venv's bin
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    theirs: dict[str, tuple[int, subprocess.Popen[bytes], Path]] = {}
    ports: set[int] = set()
    with contextlib.ExitStack() as stack:
        try:
            for name in _MODELS:  # all of MLflow's servers start at once: each takes seconds
                port, log = _free_port(ports), root / f"mlflow-{name}.log"
                with open(log, "wb") as out:
                    proc = subprocess.Popen(
                        [str(python), str(bin_dir / "mlflow"), "models", "serve",
                         "-m", str(root / "models" / name), "-p", str(port), "-h", "127.0.0.1",
                         "--env-manager", "local"],
                        stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                    )  # fmt: skip
                theirs[name] = (port, proc, log)
            ours = {n: stack.enter_context(serve_model(root / "models" / n)) for n in _MODELS}
            for port, proc, log in theirs.values():
                wait_ping(f"http://127.0.0.1:{port}", proc, log, timeout=180)
            yield {name: (theirs[name][0], ours[name]) for name in _MODELS}
        finally:
            for _, proc, _ in theirs.values():
                stop_session(proc)


def _answers(servers: dict[str, tuple[int, ServedModel]], case: Case) -> tuple[Any, Any]:
    port, ours = servers[case.model]
    return _post(port, case), ours.invoke(case.body, case.content_type)


def _assert_same(theirs: tuple[int, Any], ours: tuple[int, Any]) -> None:
    (their_status, their_body), (our_status, our_body) = theirs, ours
    assert our_status == their_status, (their_body, our_body)
    if their_status < 300:
        assert our_body == their_body
    else:
        assert isinstance(our_body, dict), "every mlserve error body is JSON"
        assert our_body["error_code"] == their_body["error_code"], (their_body, our_body)


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=n) for n, c in SAME.items()]
    + [
        pytest.param(c, id=n, marks=pytest.mark.xfail(strict=True, reason=why))
        for n, (c, why) in PENDING.items()
    ],
)
def test_same_answer_as_mlflow(servers: dict[str, tuple[int, ServedModel]], case: Case) -> None:
    # PENDING cases run here too, as strict xfails (an empty PENDING adds no skipped test)
    _assert_same(*_answers(servers, case))


@pytest.mark.parametrize("case", [pytest.param(c, id=n) for n, (c, _) in DIFFERENT.items()])
def test_documented_differences_still_differ(
    servers: dict[str, tuple[int, ServedModel]], case: Case
) -> None:
    (their_status, their_body), (our_status, our_body) = _answers(servers, case)
    assert (our_status, our_body) != (their_status, their_body), (
        "no longer a difference: move the case to SAME"
    )
    assert isinstance(our_body, dict), "our body is JSON"


def test_the_differences_are_what_the_docs_say(servers: dict[str, tuple[int, ServedModel]]) -> None:
    # the array for two inputs: MLflow's 500, our 400 naming the inputs
    theirs, ours = _answers(servers, DIFFERENT["two-rank1/inputs-rows"][0])
    assert (theirs[0], theirs[1]["error_code"]) == (500, "INTERNAL_ERROR")
    assert (ours[0], ours[1]["error_code"]) == (400, "BAD_REQUEST")
    assert "2 inputs (a, b)" in ours[1]["message"]
    # the string column: MLflow refuses it, we answer with the strings and the negated floats
    theirs, ours = _answers(servers, DIFFERENT["string-and-float/split"][0])
    assert (theirs[0], theirs[1]["error_code"]) == (400, "BAD_REQUEST")
    assert ours == (200, {"predictions": [{"y": -1.5, "t": "a"}, {"y": -2.0, "t": "b"}]})


def test_the_table_covers_each_kind_of_answer(servers: dict[str, tuple[int, ServedModel]]) -> None:
    # the comparison is not vacuous: MLflow answers some cases 200 with a frame of outputs,
    # some with a dict of outputs, and refuses others
    answers = {name: _post(servers[c.model][0], c) for name, c in SAME.items()}
    assert answers["one-rank2/split-a-column-named-x"] == (
        200,
        {"predictions": [{"y": 6.5}, {"y": 15.5}]},
    )
    assert answers["two-rank1/inputs-named"] == (200, {"predictions": {"y": [4.5, 6.5]}})
    refused = [n for n, (status, _) in answers.items() if status == 400]
    assert "two-rank2/split" in refused and "one-rank2/split-integers" in refused
    assert 20 < len(refused) < len(answers) - 20
