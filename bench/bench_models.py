"""The benchmark models, their payloads, and saving them with mlserve (and MLflow, elsewhere).

Each model is fitted here, in the bench's own Python, then pickled once so the MLflow side
(``mlflow_side.py``, run by the MLflow venv's Python) saves *the same fitted object*. Payloads are
built once as bytes and sent unchanged to both servers.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# Target artifact size of the "big" model: float64 training data kept by a brute-force KNN.
BIG_MODEL_MB = 200
BIG_FEATURES = 20


@dataclass
class BenchModel:
    """A fitted model, an input example, and a generator of realistic input rows."""

    name: str
    description: str
    model: Any
    example: pd.DataFrame
    sample: Callable[[int, int], pd.DataFrame]  # (rows, seed) -> input frame


def _resample(frame: pd.DataFrame) -> Callable[[int, int], pd.DataFrame]:
    def sample(n: int, seed: int) -> pd.DataFrame:
        idx = np.random.default_rng(seed).integers(0, len(frame), size=n)
        return frame.iloc[idx].reset_index(drop=True)

    return sample


def seed_rf() -> BenchModel:
    """The seed scenario's RandomForestClassifier (columns named f0..f3 so both sides agree)."""
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(n_samples=100, n_features=4, random_state=42)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(4)])
    model = RandomForestClassifier(random_state=42).fit(frame, y)
    return BenchModel(
        "seed_rf",
        "RandomForestClassifier(random_state=42), 4 features (the seed model)",
        model,
        frame.head(5),
        _resample(frame),
    )


def lr20() -> BenchModel:
    """A 20-feature LogisticRegression: the model the issue's MLflow figures are quoted for."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=2000, n_features=20, n_informative=10, random_state=0)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(20)])
    model = LogisticRegression(max_iter=1000).fit(frame, y)
    return BenchModel(
        "lr20", "LogisticRegression, 20 numeric features", model, frame.head(5), _resample(frame)
    )


def _pipeline_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "color": pd.array(rng.choice(["red", "green", "blue"], size=n), dtype="str"),
            "size": pd.array(rng.choice(["S", "M", "L", "XL"], size=n), dtype="str"),
            "a": rng.normal(0, 1, n),
            "b": rng.normal(10, 3, n),
            "c": rng.uniform(0, 100, n),
        }
    )


def pipeline() -> BenchModel:
    """OneHotEncoder on two string columns + StandardScaler on three numeric, then a classifier."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = _pipeline_frame(2000, 0)
    y = ((frame["color"] == "red") ^ (frame["a"] > 0)).astype(int)
    model = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [
                        ("cat", OneHotEncoder(handle_unknown="ignore"), ["color", "size"]),
                        ("num", StandardScaler(), ["a", "b", "c"]),
                    ]
                ),
            ),
            ("clf", LogisticRegression(max_iter=1000)),
        ]
    ).fit(frame, y)
    return BenchModel(
        "pipeline",
        "Pipeline: one-hot (2 string columns) + scaling (3 numeric) + LogisticRegression",
        model,
        frame.head(5),
        _pipeline_frame,
    )


def big() -> BenchModel:
    """A brute-force KNN whose fitted state is ~200 MB of float64 (for memory and start-up)."""
    from sklearn.neighbors import KNeighborsClassifier

    rows = BIG_MODEL_MB * 1024 * 1024 // (8 * BIG_FEATURES)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, BIG_FEATURES))
    y = (X[:, 0] > 0).astype(np.int8)
    columns = [f"x{i}" for i in range(BIG_FEATURES)]
    model = KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(
        pd.DataFrame(X, columns=columns, copy=False), y
    )
    head = pd.DataFrame(X[:1000], columns=columns)
    return BenchModel(
        "big",
        f"KNeighborsClassifier(algorithm='brute') holding {rows:,} x {BIG_FEATURES} float64 "
        f"(~{BIG_MODEL_MB} MB)",
        model,
        head.head(5),
        _resample(head),
    )


BUILDERS: dict[str, Callable[[], BenchModel]] = {
    "seed_rf": seed_rf,
    "lr20": lr20,
    "pipeline": pipeline,
    "big": big,
}


# -- payloads ----------------------------------------------------------------------------------


def json_split(frame: pd.DataFrame) -> bytes:
    """The ``dataframe_split`` body MLflow clients send (no index)."""
    data = frame.astype(object).to_numpy().tolist()
    return json.dumps({"dataframe_split": {"columns": list(frame.columns), "data": data}}).encode()


def csv_body(frame: pd.DataFrame) -> bytes:
    """A ``text/csv`` body with a header row."""
    return frame.to_csv(index=False).encode()


@dataclass(frozen=True)
class Payload:
    """One request body, ready to send."""

    name: str  # e.g. "json 1 row"
    rows: int
    content_type: str
    body: bytes


def payload(bm: BenchModel, kind: str, rows: int) -> Payload:
    """``kind`` is "json" or "csv"; rows come from the model's own distribution."""
    frame = bm.sample(rows, 1234 + rows)
    if kind == "json":
        return Payload(
            f"json {rows:,} row{'s' * (rows > 1)}", rows, "application/json", json_split(frame)
        )
    return Payload(f"csv {rows:,} rows", rows, "text/csv", csv_body(frame))


# -- saving ------------------------------------------------------------------------------------


def save_ours(bm: BenchModel, path: Path) -> None:
    """Save with mlserve's public API, signature inferred from the example and its prediction."""
    import mlserve

    signature = mlserve.infer_signature(bm.example, bm.model.predict(bm.example))
    mlserve.save_model(bm.model, path, signature=signature, input_example=bm.example)


def dump_for_mlflow(models: list[BenchModel], workdir: Path) -> Path:
    """Pickle (name, model, example) triples for ``mlflow_side.py`` to save as MLflow models."""
    path = workdir / "for_mlflow.pkl"
    with path.open("wb") as f:
        pickle.dump([(bm.name, bm.model, bm.example) for bm in models], f, protocol=5)
    return path
