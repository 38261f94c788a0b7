"""tritonclient, the Open Inference Protocol's reference client, against a real server.

It runs in a subprocess: its HTTP client imports gevent, which has no business in the test
process (and its warnings are errors there).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

# ARGS (argv): the server's host:port, the model's name, the rows as JSON (four FP64 columns
# named a to d, one tensor each)
_SCRIPT = """
import json, sys
import numpy as np
import tritonclient.http as http
url, model, rows = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
client = http.InferenceServerClient(url)

def infer(binary):
    inputs = []
    for i, name in enumerate("abcd"):
        tensor = http.InferInput(name, [len(rows)], "FP64")
        values = np.array([r[i] for r in rows], dtype=np.float64)
        tensor.set_data_from_numpy(values, binary_data=binary)
        inputs.append(tensor)
    wanted = [http.InferRequestedOutput("output-0", binary_data=binary)]
    return client.infer(model, inputs, outputs=wanted).as_numpy("output-0").tolist()

print(json.dumps({
    "live": client.is_server_live(),
    "ready": client.is_server_ready(),
    "model_ready": client.is_model_ready(model),
    "metadata": client.get_model_metadata(model),
    "server": client.get_server_metadata(),
    "binary": infer(True),  # tritonclient's default: the binary tensor extension
    "json": infer(False),
    "missing_model_ready": client.is_model_ready("missing"),
}))
"""


def tritonclient_sees(url: str, model: str, rows: list[list[float]]) -> dict[str, Any]:
    """What tritonclient reads from the server at ``url`` about ``model`` and infers on ``rows``,
    in binary and in JSON: ``live``, ``ready``, ``model_ready``, ``metadata``, ``server``,
    ``binary``, ``json``, ``missing_model_ready``. AssertionError, with its stderr, when the
    client fails."""
    host = url.removeprefix("http://")
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, host, model, json.dumps(rows)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    seen: dict[str, Any] = json.loads(done.stdout)
    return seen
