"""Schemathesis against ``/openapi.json`` of a real server: no 5xx, every answer as documented.

One ``python -m mlserve.server`` serves three models (named columns with an input example, a
tensor signature, a PythonModel with params), so the document has every kind of request schema.
Schemathesis generates requests from the document, valid and not, for every operation, and
checks each answer: never a server error, and the status, media type, headers and body are the
ones the document gives for that operation. Bounded: a fixed number of examples per operation,
no Hypothesis database, so a CI run costs the same every time.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis  # the dev extra installs it: a missing install fails, it never skips
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks as st_checks

from .helpers import start_server

pytestmark = pytest.mark.slow

# what "matches the document" means here: every check on a single response
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_headers_conformance,
    st_checks.response_schema_conformance,
]
# per operation and mode; MLSERVE_SCHEMATHESIS_EXAMPLES=500 explores further by hand
MAX_EXAMPLES = int(os.environ.get("MLSERVE_SCHEMATHESIS_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def tensor_model_dir(tmp_path_factory: pytest.TempPathFactory, seed_model, seed_data) -> Path:  # type: ignore[no-untyped-def]
    """The seed RandomForest saved with an ndarray example: a tensor signature."""
    import mlserve

    X, _ = seed_data
    path = tmp_path_factory.mktemp("models") / "tensor"
    mlserve.save_model(seed_model, path, input_example=X[:2])
    return path


@pytest.fixture(scope="module")
def served_url(
    tmp_path_factory: pytest.TempPathFactory,
    typed_model_dir: Path,
    tensor_model_dir: Path,
    shapes_model_dir: Path,
):  # type: ignore[no-untyped-def]
    log_dir = tmp_path_factory.mktemp("schemathesis")
    with start_server(
        log_dir,
        "-m",
        f"typed={typed_model_dir}",
        "-m",
        f"tensor={tensor_model_dir}",
        "-m",
        f"shapes={shapes_model_dir}",
        "--timeout",
        "10",
    ) as server:
        yield server.url


@pytest.fixture(scope="module")
def api_schema(served_url: str):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_url(f"{served_url}/openapi.json")


# Driven through schemathesis' Python API (a Hypothesis strategy per operation) rather than its
# pytest plugin: the plugin's lazy fixture loader reads a private pytest attribute that pytest
# 9.2 no longer has ('Function' object has no attribute '_nodeid').
@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_every_answer_is_documented(api_schema, mode: str) -> None:  # type: ignore[no-untyped-def]
    generation_mode = schemathesis.GenerationMode(mode)
    failures: dict[str, str] = {}
    sent: dict[str, int] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20, [op.label for op in operations]
    for operation in operations:
        if mode == "negative" and not operation.body:
            continue  # a GET without parameters has no invalid request to make
        strategy = operation.as_strategy(generation_mode=generation_mode)

        @given(case=strategy)
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,  # a server round trip; the test's own timeout bounds it
            database=None,
            derandomize=MAX_EXAMPLES <= 25,  # the same requests on every CI run
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:  # type: ignore[no-untyped-def]
            sent[case.operation.label] = sent.get(case.operation.label, 0) + 1
            case.call_and_validate(checks=CHECKS, timeout=15)

        try:
            check()
        except BaseException as exc:  # every operation's failure, then report them all
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:3000]
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
    # the requests were made: every scoring operation got many, of many shapes
    scoring = [label for label in sent if label.endswith(("invocations", "infer"))]
    assert len(scoring) == 7, sent  # /invocations, three /models/.../invocations, three infer
    assert all(sent[label] >= MAX_EXAMPLES // 2 for label in scoring), sent
