"""Server fixtures: the seed model and friends, saved for real with ``mlserve.save_model``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ._both_servers import save_wire_models, serve_both
from .helpers import heavy_function, shapes_model, sleepy_function


@pytest.fixture(scope="session")
def seed_model_dir(tmp_path_factory: pytest.TempPathFactory, seed_model) -> Path:  # type: ignore[no-untyped-def]
    """The seed RandomForest saved with ``mlserve.save_model``, without a signature (as the
    seed scenario logs it)."""
    import mlserve

    path = tmp_path_factory.mktemp("models") / "seed"
    mlserve.save_model(seed_model, path)
    return path


@pytest.fixture(scope="session")
def typed_model_dir(tmp_path_factory: pytest.TempPathFactory, seed_model, seed_data) -> Path:  # type: ignore[no-untyped-def]
    """The seed RandomForest saved with a named-column input example (so it has a ColSpec
    signature and a serving input example)."""
    import pandas as pd

    import mlserve

    X, _ = seed_data
    example = pd.DataFrame(X[:2], columns=["a", "b", "c", "d"])
    path = tmp_path_factory.mktemp("models") / "typed"
    mlserve.save_model(seed_model, path, input_example=example)
    return path


@pytest.fixture(scope="session")
def sleepy_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A python_function model that sleeps, raises or misbehaves on demand (see
    ``SLEEPY_SOURCE``)."""
    import mlserve

    path = tmp_path_factory.mktemp("models") / "sleepy"
    mlserve.save_model(sleepy_function(), path, flavor="python_function")
    return path


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory, seed_model) -> Path:  # type: ignore[no-untyped-def]
    """A tracking store holding the seed scenario: the RandomForest logged and registered as
    ``MyRandomForest``."""
    import mlserve

    store = tmp_path_factory.mktemp("mlruns")
    mlserve.set_tracking_uri(str(store))
    try:
        with mlserve.start_run():
            mlserve.log_model(
                seed_model, "random-forest-model", registered_model_name="MyRandomForest"
            )
    finally:
        mlserve.set_tracking_uri(None)
    return store


@pytest.fixture(scope="session")
def heavy_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A python_function model with 64 MiB of weights (see ``HEAVY_SOURCE``)."""
    import mlserve

    path = tmp_path_factory.mktemp("models") / "heavy"
    mlserve.save_model(heavy_function(), path, flavor="python_function")
    return path


@pytest.fixture(scope="session")
def text_pipeline(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A one-hot string column + a number -> LogisticRegression pipeline, saved with a
    DataFrame input example (string and double ColSpecs); returns (pipeline, frame, path)."""
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    import mlserve

    frame = pd.DataFrame(
        {
            "city": ["paris", "london, uk", 'say "hi"', "two\nlines"] * 5,
            "n": [float(i) for i in range(20)],
        }
    )
    target = [0, 1, 1, 0] * 5
    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["city"]), remainder="passthrough"
    )
    pipeline = make_pipeline(encode, LogisticRegression()).fit(frame, target)
    path = tmp_path_factory.mktemp("models") / "text"
    mlserve.save_model(pipeline, path, input_example=frame.head(3))
    return pipeline, frame, path


@pytest.fixture(scope="session")
def shapes_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``SHAPES_SOURCE``'s PythonModel with a ``v`` double column and ``kind``/``scale``
    params."""
    import pandas as pd

    import mlserve
    from mlserve.schema import infer_signature

    signature = infer_signature(
        pd.DataFrame({"v": [1.0]}), None, params={"kind": "frame", "scale": 2.0}
    )
    path = tmp_path_factory.mktemp("models") / "shapes"
    mlserve.save_model(shapes_model(), path, signature=signature)
    return path


@pytest.fixture(scope="session")
def lr_dir(tmp_path_factory: pytest.TempPathFactory, seed_data) -> Path:  # type: ignore[no-untyped-def]
    """A LogisticRegression on the seed data with a named-column signature (``a``..``d``): a
    second model beside the seed forest, whose predictions are its own."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import mlserve

    X, y = seed_data
    path = tmp_path_factory.mktemp("models") / "lr"
    model = LogisticRegression().fit(X, y)
    mlserve.save_model(model, path, input_example=pd.DataFrame(X[:2], columns=list("abcd")))
    return path


@pytest.fixture(scope="session")
def wire_servers(
    mlflow3_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[str, str]]]:
    """``{model: (mlflow_url, mlserve_url)}``: MLflow's scoring server and ours, each on every
    model of :func:`save_wire_models`, shared by the wire-parity modules."""
    root = tmp_path_factory.mktemp("wire")
    with serve_both(mlflow3_python, save_wire_models(root), root) as urls:
        yield urls
