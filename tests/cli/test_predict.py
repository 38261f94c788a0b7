"""``mlserve predict``: JSON and CSV files (CSV streamed in chunks), stdin, stdout, errors; with
real saved sklearn models."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _hostile_pickle import writes_marker

import mlserve
from mlserve.cli import _predict as predict
from mlserve.errors import InvalidParameterValue, MlserveError, PayloadError, SchemaMismatch


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="mlserve")
    predict.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["predict", *argv])
    return args.func(args)


@pytest.fixture(scope="module")
def seed_dir(tmp_path_factory: pytest.TempPathFactory, seed_model) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("cli-models") / "seed"
    mlserve.save_model(seed_model, path)
    return path


@pytest.fixture(scope="module")
def typed_dir(tmp_path_factory: pytest.TempPathFactory, seed_model, seed_data) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("cli-models") / "typed"
    X, _ = seed_data
    mlserve.save_model(seed_model, path, input_example=pd.DataFrame(X[:2], columns=list("abcd")))
    return path


def _csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def test_json_file_to_output_file(tmp_path: Path, seed_dir: Path, seed_model, seed_data) -> None:  # type: ignore[no-untyped-def]
    X, _ = seed_data
    source = tmp_path / "in.json"
    source.write_text(json.dumps({"inputs": X[:10].tolist()}))
    out = tmp_path / "out.json"
    assert _run("-m", str(seed_dir), "-i", str(source), "-o", str(out)) == 0
    assert json.loads(out.read_text()) == {"predictions": seed_model.predict(X[:10]).tolist()}
    assert not (tmp_path / "out.json.partial").exists()


@pytest.mark.parametrize("chunk_rows", [1, 7, 100, 10_000], ids=["1", "7", "exact", "one-chunk"])
def test_csv_is_streamed_in_chunks(
    tmp_path: Path, typed_dir: Path, seed_model, seed_data, chunk_rows: int
) -> None:  # type: ignore[no-untyped-def]
    X, _ = seed_data
    source = _csv(tmp_path / "in.csv", pd.DataFrame(X, columns=list("abcd")))
    out = tmp_path / "out.json"
    _run("-m", str(typed_dir), "-i", str(source), "-o", str(out), "--chunk-rows", str(chunk_rows))
    assert json.loads(out.read_text()) == {"predictions": seed_model.predict(X).tolist()}


def test_csv_quoted_newlines_stay_in_one_row(tmp_path: Path) -> None:
    def echo(frame):  # type: ignore[no-untyped-def]
        return frame["text"].str.len().to_numpy()

    model_dir = tmp_path / "echo"
    mlserve.save_model(echo, model_dir, flavor="python_function")
    source = tmp_path / "in.csv"
    source.write_text('text,n\n"two\nlines",1\nplain,2\n"a,b",3\n')
    out = tmp_path / "out.json"
    _run("-m", str(model_dir), "-i", str(source), "-o", str(out), "--chunk-rows", "1")
    assert json.loads(out.read_text()) == {"predictions": [9, 5, 3]}


def test_columnar_output_is_gathered_across_chunks(tmp_path: Path) -> None:
    def two_outputs(frame):  # type: ignore[no-untyped-def]
        x = frame["x"].to_numpy(dtype=float)
        return {"double": x * 2, "square": x * x}

    model_dir = tmp_path / "two"
    mlserve.save_model(two_outputs, model_dir, flavor="python_function")
    source = _csv(tmp_path / "in.csv", pd.DataFrame({"x": [1.0, 2.0, 3.0]}))
    out = tmp_path / "out.json"
    _run("-m", str(model_dir), "-i", str(source), "-o", str(out), "--chunk-rows", "2")
    assert json.loads(out.read_text()) == {
        "predictions": {"double": [2.0, 4.0, 6.0], "square": [1.0, 4.0, 9.0]}
    }


def test_stdin_to_stdout(
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
    seed_dir: Path,
    seed_model,
) -> None:  # type: ignore[no-untyped-def]
    rows = [[0.1, -0.2, 0.3, -0.4], [0.5, 0.6, -0.7, 0.8]]
    body = json.dumps({"dataframe_split": {"columns": [0, 1, 2, 3], "data": rows}}).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(body)))
    assert _run("-m", str(seed_dir), "--no-progress") == 0
    printed = json.loads(capsysbinary.readouterr().out)
    assert printed == {"predictions": seed_model.predict(np.array(rows)).tolist()}


def test_stdin_csv_with_content_type(
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
    typed_dir: Path,
    seed_model,
    seed_data,
) -> None:  # type: ignore[no-untyped-def]
    X, _ = seed_data
    text = pd.DataFrame(X[:5], columns=list("abcd")).to_csv(index=False).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text)))
    _run("-m", str(typed_dir), "--content-type", "text/csv; charset=utf-8", "--chunk-rows", "2")
    printed = json.loads(capsysbinary.readouterr().out)
    assert printed == {"predictions": seed_model.predict(X[:5]).tolist()}


@pytest.mark.parametrize(
    ("name", "content", "extra", "error", "match"),
    [
        ("in.txt", "1,2", [], InvalidParameterValue, "--content-type"),
        ("in.csv", "a,b\n1,2\n", [], SchemaMismatch, "'c'"),
        ("in.json", "{nope", [], MlserveError, "Invalid request body"),
        ("in.csv", "a,b,c,d\n1,2,3,4\n", ["--chunk-rows", "0"], InvalidParameterValue, "chunk"),
    ],
    ids=["unknown-suffix", "schema-mismatch", "bad-json", "bad-chunk-rows"],
)
def test_errors_are_mlserve_errors(
    tmp_path: Path,
    typed_dir: Path,
    name: str,
    content: str,
    extra: list[str],
    error: type,
    match: str,
) -> None:
    source = tmp_path / name
    source.write_text(content)
    out = tmp_path / "out.json"
    with pytest.raises(error, match=match):
        _run("-m", str(typed_dir), "-i", str(source), "-o", str(out), *extra)
    assert not out.exists() and not (tmp_path / "out.json.partial").exists()


def test_missing_input_file(tmp_path: Path, seed_dir: Path) -> None:
    with pytest.raises(MlserveError, match=r"nowhere\.json"):
        _run("-m", str(seed_dir), "-i", str(tmp_path / "nowhere.json"))


def test_csv_that_is_not_utf8_is_a_payload_error(tmp_path: Path, typed_dir: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"a,b,c,d\n1,2,3,4\n\xff,2,3,4\n")
    with pytest.raises(PayloadError, match="not valid UTF-8"):
        _run("-m", str(typed_dir), "-i", str(source), "-o", str(tmp_path / "out.json"))


@pytest.mark.parametrize("suffix", [".json", ".csv"], ids=["json", "csv"])
def test_output_with_no_json_form_is_an_mlserve_error(tmp_path: Path, suffix: str) -> None:
    def opaque(frame):  # type: ignore[no-untyped-def]
        return [object()] * len(frame)

    model_dir = tmp_path / "opaque"
    mlserve.save_model(opaque, model_dir, flavor="python_function")
    source = tmp_path / f"in{suffix}"
    source.write_text('{"inputs": {"x": [1]}}' if suffix == ".json" else "x\n1\n")
    with pytest.raises(MlserveError, match="cannot be written as JSON"):
        _run("-m", str(model_dir), "-i", str(source), "-o", str(tmp_path / "out.json"))
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("where", ["no-such-dir", "a-directory"], ids=str)
def test_unwritable_output_is_an_mlserve_error(tmp_path: Path, seed_dir: Path, where: str) -> None:
    source = tmp_path / "in.json"
    source.write_text('{"inputs": [[1, 2, 3, 4]]}')
    target = tmp_path / "missing" / "out.json" if where == "no-such-dir" else tmp_path
    with pytest.raises(MlserveError, match="Cannot write"):
        _run("-m", str(seed_dir), "-i", str(source), "-o", str(target))


def test_input_that_is_a_directory_is_an_mlserve_error(tmp_path: Path, seed_dir: Path) -> None:
    with pytest.raises(MlserveError, match="Cannot read"):
        _run("-m", str(seed_dir), "-i", str(tmp_path), "--content-type", "application/json")


@pytest.mark.slow
def test_the_mlserve_command_reads_stdin_and_writes_stdout(
    tmp_path: Path, typed_dir: Path, seed_model, seed_data
) -> None:  # type: ignore[no-untyped-def]
    """The real ``mlserve predict`` process: stdin to stdout, ``-o -`` is stdout too, and an
    error is one line on stderr with exit status 1."""
    X, _ = seed_data
    expected = {"predictions": seed_model.predict(X[:3]).tolist()}
    cli = [sys.executable, "-c", "import sys; from mlserve.cli import main; sys.exit(main())"]
    body = json.dumps({"dataframe_split": {"columns": list("abcd"), "data": X[:3].tolist()}})
    done = subprocess.run(
        [*cli, "predict", "-m", str(typed_dir)],
        input=body.encode(),
        capture_output=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert (done.returncode, json.loads(done.stdout)) == (0, expected), done.stderr
    csv_text = pd.DataFrame(X[:3], columns=list("abcd")).to_csv(index=False)
    done = subprocess.run(
        [*cli, "predict", "-m", str(typed_dir), "--content-type", "text/csv", "-o", "-"],
        input=csv_text.encode(),
        capture_output=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert (done.returncode, json.loads(done.stdout)) == (0, expected), done.stderr
    assert not (tmp_path / "-").exists()
    done = subprocess.run(
        [*cli, "predict", "-m", str(typed_dir), "--content-type", "text/csv"],
        input=b"a,b,c,d\n\xff,2,3,4\n",
        capture_output=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.decode().splitlines() == [
        "mlserve: error: Invalid request body: the body is not valid UTF-8"
    ]


def test_trust_option_refuses_a_pickle_before_it_runs(tmp_path: Path, seed_model) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran"
    mlserve.save_model(seed_model, tmp_path / "m")
    (tmp_path / "m" / "model.pkl").write_bytes(writes_marker(marker))
    mlmodel = mlserve.Model.load(tmp_path / "m")
    mlmodel.mlserve_digests = None  # as MLflow writes models: nothing else catches the swap
    mlmodel.save(tmp_path / "m")
    (tmp_path / "in.json").write_text('{"inputs": [[0.1, -0.2, 0.3, -0.4]]}')
    with pytest.raises(mlserve.UntrustedModel, match="refuses pickles"):
        _run("-m", str(tmp_path / "m"), "-i", str(tmp_path / "in.json"), "--trust", "no-pickle")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("flag", "kind", "suffix"),
    [
        ("-t", "csv", ".txt"),
        ("-t", "json", ".data"),
        ("--content-type", "CSV", ".in"),
        ("--content-type", "text/csv", ".in"),
    ],
    ids=["t-csv", "t-json", "upper", "media-type"],
)
def test_mlflow_models_predict_spelling(  # type: ignore[no-untyped-def]
    tmp_path: Path, typed_dir: Path, seed_model, seed_data, flag: str, kind: str, suffix: str
) -> None:
    # `mlflow models predict -m URI -i FILE -t csv` run through the real command line, with its
    # `models` prefix, on files whose suffix says nothing
    from mlserve.cli import main

    X, _ = seed_data
    frame = pd.DataFrame(X[:5], columns=list("abcd"))
    source = tmp_path / f"in{suffix}"
    if kind == "json":
        source.write_text(json.dumps({"dataframe_split": frame.to_dict(orient="split")}))
    else:
        frame.to_csv(source, index=False)
    out = tmp_path / "out.json"
    argv = ["models", "predict", "-m", str(typed_dir), "-i", str(source), "-o", str(out)]
    assert main([*argv, flag, kind]) == 0
    assert json.loads(out.read_text()) == {"predictions": seed_model.predict(X[:5]).tolist()}


def test_an_unknown_short_type_fails(tmp_path: Path, typed_dir: Path) -> None:
    from mlserve.cli import main

    source = tmp_path / "in.json"
    source.write_text("{}")
    assert main(["predict", "-m", str(typed_dir), "-i", str(source), "-t", "parquet2"]) == 1
