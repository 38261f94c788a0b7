"""Save MLflow copies of the benchmark models. Runs in the MLflow venv's Python, not ours.

Usage: ``<mlflow python> bench/mlflow_side.py MODELS.pkl OUT_DIR`` where MODELS.pkl holds
``[(name, fitted_model, example_frame), ...]`` written by ``bench_models.dump_for_mlflow``. Each
model is saved with ``mlflow.sklearn.save_model`` (cloudpickle, as mlserve saves by default) and the
signature MLflow infers from the example and its prediction, so MLflow's server enforces a schema
just as ours does. Prints one JSON line:
``{"mlflow": version, "sklearn": version, "models": {name: dir}}``.
"""

from __future__ import annotations

import json
import pickle
import sys
import warnings
from pathlib import Path


def main() -> None:
    source, out = Path(sys.argv[1]), Path(sys.argv[2])
    import mlflow
    import mlflow.sklearn
    import sklearn
    from mlflow.models import infer_signature

    with source.open("rb") as f:
        models = pickle.load(f)
    saved = {}
    for name, model, example in models:
        target = out / name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MLflow's advice about pip pins is not our concern
            mlflow.sklearn.save_model(
                model,
                str(target),
                signature=infer_signature(example, model.predict(example)),
                input_example=example,
                # mlserve saves cloudpickle by default; the same format keeps load times comparable
                serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
            )
        saved[name] = str(target)
    info = {"mlflow": mlflow.__version__, "sklearn": sklearn.__version__, "models": saved}
    print(json.dumps(info))


if __name__ == "__main__":
    main()
