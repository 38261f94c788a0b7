"""GET /metrics on real servers: exact counts across workers, a worker killed and replaced.

Every scrape is read with Prometheus' own text parser (``prometheus_client.parser``).
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from .helpers import SEED_BODY, Server, start_server

Labels = tuple[tuple[str, str], ...]


def scrape(url: str) -> dict[tuple[str, Labels], float]:
    """Every sample of one scrape of ``url``/metrics, parsed by Prometheus' parser."""
    answer = requests.get(url + "/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[tuple[str, Labels], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def invocations(samples: dict[tuple[str, Labels], float], code: str = "200") -> float:
    return value(
        samples,
        "mlserve_requests_total",
        model="seed",
        version="",
        route="/invocations",
        code=code,
    )


def send(url: str, count: int) -> None:
    """``count`` predictions, each on a new connection (so both workers get some)."""
    for _ in range(count):
        answer = requests.post(url + "/invocations", json=SEED_BODY, timeout=10)
        assert answer.status_code == 200, answer.text


def served_by(server: Server, pid: int) -> bool:
    return f"<{pid}> " in server.log()


def test_counts_are_exact_across_two_workers_and_a_killed_one(
    tmp_path: Path, seed_model_dir: Path
) -> None:
    with start_server(tmp_path, "-m", str(seed_model_dir), "-w", "2") as server:
        first, second = server.wait_workers(2)
        send(server.url, 40)
        samples = scrape(server.url)
        assert invocations(samples) == 40
        assert (
            value(
                samples,
                "mlserve_request_duration_seconds_count",
                model="seed",
                version="",
                route="/invocations",
            )
            == 40
        )
        for stage in ("read_body", "queue", "decode", "enforce", "predict", "encode"):
            assert (
                value(
                    samples,
                    "mlserve_stage_duration_seconds_count",
                    model="seed",
                    version="",
                    stage=stage,
                )
                == 40
            ), stage
        assert value(samples, "mlserve_request_rows_sum", model="seed", version="") == 80
        assert value(samples, "mlserve_worker_restarts_total") == 0
        assert value(samples, "mlserve_model_load_seconds", model="seed", version="") > 0
        assert served_by(server, first) and served_by(server, second)  # both counted

        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while first in server.workers() or len(server.workers()) != 2:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.05)
        seen = [invocations(scrape(server.url)) for _ in range(5)]
        assert seen == [40] * 5  # the dead worker's 20-odd requests are still counted
        send(server.url, 30)
        samples = scrape(server.url)
        assert invocations(samples) == 70
        assert value(samples, "mlserve_worker_restarts_total") == 1
        assert value(samples, "mlserve_requests_in_flight") == 1  # the scrape itself
        directory = Path(_metrics_dir(server))
        files = sorted(p.name for p in directory.glob("*.db"))
        assert not [name for name in files if f"_{first}." in name], files
        assert "counter_archive.db" in files
    assert not directory.exists()  # removed when the server stopped


def _metrics_dir(server: Server) -> str:
    """The server's metrics directory: where a worker's memory-mapped metric files are."""
    maps = Path(f"/proc/{server.workers()[0]}/maps").read_text()
    found = re.search(r"(/\S*/mlserve-metrics-\w+)/\w+\.db", maps)
    assert found, maps
    return found[1]


def test_every_route_and_status_is_counted_under_its_pattern(
    tmp_path: Path, seed_model_dir: Path
) -> None:
    """Errors count under their status; an unknown model name is no label (no series per
    name a client makes up); V2 routes count under their pattern."""
    with start_server(tmp_path, "-m", str(seed_model_dir), "-w", "2") as server:
        url = server.url
        assert (
            requests.post(
                url + "/invocations",
                data="{",
                headers={"Content-Type": "application/json"},
                timeout=10,
            ).status_code
            == 400
        )
        assert (
            requests.post(
                url + "/models/made-up-1/invocations", json=SEED_BODY, timeout=10
            ).status_code
            == 404
        )
        assert (
            requests.post(
                url + "/models/made-up-2/invocations", json=SEED_BODY, timeout=10
            ).status_code
            == 404
        )
        assert requests.get(url + "/nowhere", timeout=10).status_code == 404
        assert requests.get(url + "/v2/models/seed/ready", timeout=10).status_code == 200
        samples = scrape(url)
        assert invocations(samples, "400") == 1
        assert (
            value(
                samples,
                "mlserve_requests_total",
                model="",
                version="",
                route="/models/<name>/invocations",
                code="404",
            )
            == 2
        )
        assert (
            value(samples, "mlserve_requests_total", model="", version="", route="", code="404")
            == 1
        )
        assert (
            value(
                samples,
                "mlserve_requests_total",
                model="seed",
                version="",
                route="/v2/models/<name>/ready",
                code="200",
            )
            == 1
        )
        assert not [key for key in samples if "made-up" in str(key)]


def test_batching_reports_batch_sizes(tmp_path: Path, seed_model_dir: Path) -> None:
    with start_server(
        tmp_path, "-m", str(seed_model_dir), "--max-batch-size", "8", "--threads", "4"
    ) as server:
        send(server.url, 6)
        samples = scrape(server.url)
        assert value(samples, "mlserve_batch_size_rows_count", model="seed", version="") == 6
        assert value(samples, "mlserve_batch_size_rows_sum", model="seed", version="") == 12
        assert (
            value(
                samples,
                "mlserve_stage_duration_seconds_count",
                model="seed",
                version="",
                stage="batch_queue",
            )
            == 6
        )
        assert value(samples, "mlserve_batch_queue_rows", model="seed", version="") == 0


def test_the_metrics_port_serves_metrics_only(tmp_path: Path, seed_model_dir: Path) -> None:
    with start_server(tmp_path, "-m", str(seed_model_dir), "--metrics-port", "0") as server:
        found = re.search(r"metrics at (http://[0-9.]+:\d+)/metrics", server.log())
        assert found, server.log()
        metrics_url = found[1]
        assert metrics_url != server.url
        send(server.url, 3)
        assert invocations(scrape(metrics_url)) == 3
        assert invocations(scrape(server.url)) == 3  # still on the main port as well
        refused = requests.post(metrics_url + "/invocations", json=SEED_BODY, timeout=10)
        assert refused.status_code == 404
        assert refused.json()["error_code"] == "ENDPOINT_NOT_FOUND"
        assert refused.headers["X-Request-ID"]


def test_the_metrics_port_answers_while_every_request_thread_is_busy(
    tmp_path: Path, sleepy_model_dir: Path
) -> None:
    """The metrics port is the parent's: with the one request thread of the one worker held by
    a slow prediction, a scrape there still answers at once, and sees the request in flight."""
    import threading

    with start_server(
        tmp_path, "-m", f"sleepy={sleepy_model_dir}", "--threads", "1", "--metrics-port", "0"
    ) as server:
        found = re.search(r"metrics at (http://[0-9.]+:\d+)/metrics", server.log())
        assert found, server.log()
        body = {"dataframe_split": {"columns": ["x"], "data": [[3]]}}  # sleeps 3 s
        slow = threading.Thread(
            target=lambda: requests.post(server.url + "/invocations", json=body, timeout=30)
        )
        slow.start()
        try:
            deadline = time.monotonic() + 10
            while True:
                started = time.monotonic()
                samples = scrape(found[1])
                took = time.monotonic() - started
                if value(samples, "mlserve_requests_in_flight") == 1:
                    break
                assert time.monotonic() < deadline, samples
                time.sleep(0.05)
            assert took < 1.5, took  # not behind the 3 s prediction
        finally:
            slow.join(30)
        assert value(scrape(found[1]), "mlserve_requests_total", model="sleepy", version="",
                     route="/invocations", code="200") == 1  # fmt: skip


def test_no_metrics_turns_them_off(tmp_path: Path, seed_model_dir: Path) -> None:
    with start_server(tmp_path, "-m", str(seed_model_dir), "--no-metrics") as server:
        send(server.url, 1)
        answer = requests.get(server.url + "/metrics", timeout=10)
        assert answer.status_code == 404
        assert "--no-metrics" in answer.json()["message"]


# the server with prometheus_client made unimportable, as where the extra is not installed
_WITHOUT_PROMETHEUS = (
    "import sys; sys.modules['prometheus_client'] = None; "
    "from mlserve.server.__main__ import main; sys.exit(main())"
)


def test_without_the_extra_metrics_say_what_to_install(
    tmp_path: Path, seed_model_dir: Path
) -> None:
    command = [sys.executable, "-c", _WITHOUT_PROMETHEUS]
    args = ("-m", str(seed_model_dir), "-w", "2", "--metrics-port", "0")
    with start_server(tmp_path, *args, command=command) as server:
        send(server.url, 2)
        answer = requests.get(server.url + "/metrics", timeout=10)
        assert answer.status_code == 501
        assert answer.json()["error_code"] == "NOT_IMPLEMENTED"
        assert "pip install 'mlserve-core[metrics]'" in answer.json()["message"]
        assert answer.headers["X-Request-ID"]
        found = re.search(r"metrics at (http://[0-9.]+:\d+)/metrics", server.log())
        assert found, server.log()
        answer = requests.get(found[1] + "/metrics", timeout=10)
        assert answer.status_code == 501, answer.text
        assert "pip install 'mlserve-core[metrics]'" in answer.json()["message"]
        # a worker that dies is replaced, and folding it in needs nothing from the extra
        worker = server.workers()[0]
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while worker in server.workers() or len(server.workers()) != 2:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.05)
        send(server.url, 2)
        assert server.stop() == 0, server.log()  # and it stops cleanly
        assert "Traceback" not in server.log(), server.log()
