"""Per-request cost of the codecs: decode + enforce + encode, next to a bare model.predict.

Run: ``python bench/codecs.py``. Prints a table; asserts nothing. Inputs:

- the seed model's input (4 float columns; RandomForestClassifier(random_state=42) fit on
  make_classification(n_samples=100, n_features=4, random_state=42)) at 1, 100 and 10,000 rows,
  as dataframe_split, dataframe_records, inputs and CSV, with the tensor signature
  ``[-1, 4] float64`` that a numpy training set gives;
- a 20-column mixed-type frame (10 double, 5 long, 3 string, 2 boolean) with a column signature.

When ``mlflow`` is importable, the same bodies also go through MLflow's own scoring-server
parser and ``predictions_to_json`` for comparison.
"""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mlserve.codecs import RequestDecoder, _json, encode_predictions
from mlserve.schema import ColSpec, Schema, TensorSpec

ROWS = (1, 100, 10_000)


def per_call(fn: Callable[[], Any], budget: float = 0.3) -> float:
    """Best-of-5 mean seconds per call, with enough calls per round to fill ``budget``."""
    fn()
    start = time.perf_counter()
    fn()
    one = max(time.perf_counter() - start, 1e-7)
    n = max(1, int(budget / 5 / one))
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f} us"
    return f"{seconds * 1e3:8.2f} ms"


def seed_model() -> tuple[Any, np.ndarray]:
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(n_samples=100, n_features=4, random_state=42)
    return RandomForestClassifier(random_state=42).fit(X, y), X


def seed_frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.normal(size=(n, 4)))


def mixed_frame(n: int) -> tuple[pd.DataFrame, Schema]:
    rng = np.random.default_rng(1)
    cols: dict[str, Any] = {}
    specs = []
    for i in range(10):
        cols[f"d{i}"] = rng.normal(size=n)
        specs.append(ColSpec("double", f"d{i}"))
    for i in range(5):
        cols[f"l{i}"] = rng.integers(0, 1000, size=n)
        specs.append(ColSpec("long", f"l{i}"))
    for i in range(3):
        cols[f"s{i}"] = rng.choice(["red", "green", "blue", "a longer label"], size=n)
        specs.append(ColSpec("string", f"s{i}"))
    for i in range(2):
        cols[f"b{i}"] = rng.integers(0, 2, size=n).astype(bool)
        specs.append(ColSpec("boolean", f"b{i}"))
    return pd.DataFrame(cols), Schema(specs)


def bodies(frame: pd.DataFrame) -> dict[str, tuple[str, bytes]]:
    split = frame.to_dict(orient="split")
    split.pop("index", None)
    return {
        "dataframe_split": ("application/json", json.dumps({"dataframe_split": split}).encode()),
        "dataframe_records": (
            "application/json",
            json.dumps({"dataframe_records": frame.to_dict(orient="records")}).encode(),
        ),
        "inputs": ("application/json", json.dumps({"inputs": frame.to_numpy().tolist()}).encode()),
        "csv": ("text/csv", frame.to_csv(index=False).encode()),
    }


def mlflow_parser() -> Callable[[bytes, str, Any, Schema], Any] | None:
    """MLflow's parse (with the same signature) + schema enforcement + predictions_to_json."""
    try:
        from mlflow.models.utils import _enforce_schema
        from mlflow.pyfunc import scoring_server as ss
        from mlflow.types import Schema as MlflowSchema
    except ImportError:
        return None
    schemas: dict[str, Any] = {}

    def parse(body: bytes, content_type: str, predictions: Any, schema: Schema) -> Any:
        key = schema.to_json()
        if key not in schemas:
            schemas[key] = MlflowSchema.from_json(key)
        mschema = schemas[key]
        text = body.decode("utf-8")
        if content_type == "text/csv":
            data = ss.parse_csv_input(io.StringIO(text), schema=mschema)
        else:
            raw, _ = ss._split_data_and_params(text)
            data = ss.infer_and_parse_data(raw, mschema)
        data = _enforce_schema(data, mschema)
        out = io.StringIO()
        ss.predictions_to_json(predictions, out)
        return data

    return parse


def mlflow_time(fn: Callable[[], Any]) -> str:
    """The MLflow column: its time per call, or the error it raised (it has bugs we do not)."""
    try:
        return f"  {fmt(per_call(fn))}"
    except Exception as exc:
        return f"  error: {type(exc).__name__}: {str(exc)[:60]}"


def row(
    label: str, n: int, decode: float, encode: float, predict: float | None, extra: str = ""
) -> None:
    total = decode + encode
    pred = fmt(predict) if predict is not None else "       -   "
    ratio = f"{total / predict:6.2f}x" if predict else "     - "
    print(f"{label:<26}{n:>7}  {fmt(decode)}  {fmt(encode)}  {fmt(total)}  {pred}  {ratio}{extra}")


def main() -> None:
    model, _ = seed_model()
    mlflow_parse = mlflow_parser()
    tensor = Schema([TensorSpec(np.dtype("float64"), (-1, 4))])
    print(
        f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"JSON backend {_json.backend()}; mlflow: {'yes' if mlflow_parse else 'not installed'}"
    )
    header = (
        f"{'payload':<26}{'rows':>7}  {'decode+enf':>11}  {'encode':>11}  {'codec total':>11}"
        f"  {'predict':>11}  {'codec/predict':>7}"
    )
    print(header + ("  mlflow parse+encode" if mlflow_parse else ""))
    backends = ("orjson", "stdlib") if _json.backend() == "orjson" else ("stdlib",)
    for backend in backends:
        _json.set_backend(backend)
        print(f"-- JSON backend: {backend}")
        for n in ROWS:
            frame = seed_frame(n)
            preds = model.predict(frame.to_numpy())
            predict = per_call(lambda f=frame: model.predict(f.to_numpy()))
            encode = per_call(lambda p=preds: encode_predictions(p))
            decoder = RequestDecoder(tensor)
            for fmt_name, (ctype, body) in bodies(frame).items():
                if backend != backends[0] and fmt_name == "csv":
                    continue
                decode = per_call(lambda b=body, c=ctype, d=decoder: d.decode(b, c))
                extra = ""
                if mlflow_parse is not None:
                    extra = mlflow_time(
                        lambda b=body, c=ctype, p=preds, s=tensor: mlflow_parse(b, c, p, s)
                    )
                row(f"seed {fmt_name}", n, decode, encode, predict, extra)
        for n in ROWS:
            frame, schema = mixed_frame(n)
            decoder = RequestDecoder(schema)
            preds = np.random.default_rng(2).normal(size=n)
            encode = per_call(lambda p=preds: encode_predictions(p))
            for fmt_name in ("dataframe_split", "dataframe_records", "csv"):
                if backend != backends[0] and fmt_name == "csv":
                    continue
                ctype, body = bodies(frame)[fmt_name]
                decode = per_call(lambda b=body, c=ctype, d=decoder: d.decode(b, c))
                extra = ""
                if mlflow_parse is not None:
                    extra = mlflow_time(
                        lambda b=body, c=ctype, p=preds, s=schema: mlflow_parse(b, c, p, s)
                    )
                row(f"mixed20 {fmt_name}", n, decode, encode, None, extra)


if __name__ == "__main__":
    main()
