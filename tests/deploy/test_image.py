"""End to end: ``mlserve build-docker`` builds the seed model's image with real buildah, the
image's own entrypoint serves it, and the seed request gets the model's answer over 127.0.0.1.

buildah's chroot isolation shares the host's network and process table, so the server binds a
free port on 127.0.0.1 (MLSERVE_HOST/MLSERVE_PORT, as an operator would override them) and the
test can signal it as ``docker stop`` would. Fails instead of skipping when
MLSERVE_TEST_REQUIRE_BUILDAH=1 (.ci/run sets it).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from mlserve.cli import main

from .conftest import BUILDAH, SEED_ROWS, buildah, require_buildah

SEED_REQUEST = {"dataframe_split": {"columns": [0, 1, 2, 3], "data": SEED_ROWS}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (chroot isolation: they are in the host's table)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _entrypoint_process(runner: int) -> int:
    """The image's entrypoint (the server's arbiter: PID 1 in a real container)."""
    for pid in sorted(_descendants(runner)):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"mlserve.server" in argv and not argv[0].endswith(b"buildah-chroot-exec"):
            return pid
    raise AssertionError("the server process was not found under buildah run")


def _uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for {pid}")


def test_the_seed_image_answers_the_seed_request(
    base_image: str, seed_model: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_buildah()
    import mlserve

    with mlserve.start_run():
        mlserve.log_model(seed_model, "random-forest-model", registered_model_name="MyRandomForest")
    name = f"localhost/mlserve-test-seed-rf:{uuid.uuid4().hex[:12]}"
    started = time.monotonic()
    code = main(
        [
            "build-docker",
            "-m",
            "models:/MyRandomForest/latest",
            "-n",
            name,
            "--base-image",
            base_image,
            "--builder",
            "buildah",
            "-q",
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert f"building {name} with buildah" in out.err
    assert f"built {name} with buildah: " in out.out and " MB" in out.out
    print(f"build: {time.monotonic() - started:.0f} s; {out.out.splitlines()[0]}")

    container = None
    runner = None
    log = tmp_path / "server.log"
    try:
        inspected = json.loads(buildah("inspect", "--type", "image", name).stdout)
        config = inspected["OCIv1"]["config"]
        assert config["User"] == "10001:10001"
        assert config["Entrypoint"] == ["python", "-m", "mlserve.server"]
        assert "MLSERVE_HOST=0.0.0.0" in config["Env"] and "MLSERVE_PORT=8080" in config["Env"]
        assert config["StopSignal"] == "SIGTERM"
        healthcheck = inspected["Docker"]["config"]["Healthcheck"]["Test"]
        assert healthcheck[0] == "CMD"

        container = buildah("from", name).stdout.strip()
        port = _free_port()
        run = [*BUILDAH, "run", "--isolation", "chroot"]
        env = ["--env", "MLSERVE_HOST=127.0.0.1", "--env", f"MLSERVE_PORT={port}"]
        with log.open("wb") as sink:
            runner = subprocess.Popen(
                [*run, *env, container, "--", *config["Entrypoint"], *(config.get("Cmd") or [])],
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            assert runner.poll() is None, f"the server exited:\n{log.read_text()[-3000:]}"
            try:
                if requests.get(f"{base}/ping", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, f"not ready in 90 s:\n{log.read_text()[-3000:]}"
            time.sleep(0.2)

        answer = requests.post(f"{base}/invocations", json=SEED_REQUEST, timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"predictions": seed_model.predict(SEED_ROWS).tolist()}
        assert requests.get(f"{base}/v2/health/ready", timeout=5).status_code == 200
        # the manifests' Prometheus annotations scrape /metrics: the image has the extra
        metrics = requests.get(f"{base}/metrics", timeout=5)
        assert metrics.status_code == 200 and "text/plain" in metrics.headers["Content-Type"]

        # the image's HEALTHCHECK, run inside it, passes against the live server
        check = subprocess.run(
            [*run, "--env", f"MLSERVE_PORT={port}", container, "--", *healthcheck[1:]],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert check.returncode == 0, check.stderr
        # neither the wheelhouse nor a compiler reached the final image
        probe = (
            "import os, shutil, sys; "
            "sys.exit(os.path.exists('/tmp/wheels') or bool(shutil.which('gcc')))"
        )
        leftovers = subprocess.run(
            [*run, container, "--", "python", "-c", probe], capture_output=True, timeout=60
        )
        assert leftovers.returncode == 0

        # the entrypoint is the server itself, unprivileged; SIGTERM (docker stop) drains it
        server = _entrypoint_process(runner.pid)
        assert _uid(server) == 10001
        os.kill(server, signal.SIGTERM)
        assert runner.wait(timeout=60) == 0, log.read_text()[-3000:]
        assert "Handling signal: term" in log.read_text()
    finally:
        if runner is not None and runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait(timeout=30)
        if container is not None:
            buildah("rm", container, check=False)
        buildah("rmi", "--force", name, check=False)
