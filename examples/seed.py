"""The seed scenario: train a RandomForest, log it and register it as ``MyRandomForest``.

Run from any directory; the model lands in the embedded default store ``./mlserve-store``.
"""

from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

import mlserve

X, y = make_classification(n_samples=100, n_features=4, random_state=42)
model = RandomForestClassifier(random_state=42).fit(X, y)
with mlserve.start_run() as run:
    info = mlserve.log_model(model, "random-forest-model", registered_model_name="MyRandomForest")
print(run.info.run_id, info.model_uri, "version", info.registered_model_version)
