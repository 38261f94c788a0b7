"""Where one 1-row request spends its time, in process (no sockets): stage timings and a profile.

    python bench/profile_request.py [--model lr20|seed_rf|pipeline] [--calls 3000] [--cprofile]

Times each stage of ``POST /invocations`` separately (bare ``model.predict`` on a ready frame,
``PyFuncModel.predict`` = enforcement + predict, and each of those two alone, decoding, encoding,
and the whole WSGI app through werkzeug's test client), then profiles the whole app call with
pyinstrument (cProfile if pyinstrument is not installed, or with ``--cprofile``).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bench_models


def per_call_us(fn: Callable[[], Any], calls: int) -> float:
    """Best of 5 rounds, mean microseconds per call."""
    for _ in range(20):
        fn()
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls // 5):
            fn()
        best = min(best, (time.perf_counter() - start) / (calls // 5))
    return best * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="lr20", choices=sorted(bench_models.BUILDERS))
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--cprofile", action="store_true", help="use cProfile, not pyinstrument")
    args = parser.parse_args(argv)

    from werkzeug.test import Client

    import mlserve
    from mlserve.codecs import RequestDecoder, encode_predictions
    from mlserve.server import create_app

    bm = bench_models.BUILDERS[args.model]()
    payload = bench_models.payload(bm, "json", 1)
    tmp = tempfile.TemporaryDirectory()  # kept until the end: /metadata reads the example
    path = Path(tmp.name) / args.model
    bench_models.save_ours(bm, path)
    model = mlserve.load_model(path)
    frame = bm.sample(1, 1235)
    sig = model.signature
    decoder = RequestDecoder(sig.inputs, sig.params, enforce=False)
    decoded = decoder.decode(payload.body, payload.content_type)
    output = model.predict(decoded.data, decoded.params)
    # The server's default --timeout (60 s) runs each prediction on a deadline thread; with
    # --timeout 0 it runs inline, which is also what lets a one-thread profiler see all of it.
    app = create_app(model)
    inline_app = create_app(model, timeout=0)
    client, inline_client = Client(app), Client(inline_app)

    def post(c: Client) -> None:
        response = c.post("/invocations", data=payload.body, content_type="application/json")
        assert response.status_code == 200, response.data

    def whole() -> None:
        post(client)

    def inline() -> None:
        post(inline_client)

    native = model.unwrap()
    enforcer = model.enforcer  # every bench model is saved with a signature
    assert enforcer is not None
    enforced = enforcer(decoded.data)
    predictor = model._predictor  # the flavor's predictor: what PyFuncModel.predict calls
    stages = [
        ("bare model.predict(frame)", lambda: native.predict(frame)),
        ("PyFuncModel.predict (enforce + predict)", lambda: model.predict(decoded.data)),
        ("  enforce only (SchemaEnforcer)", lambda: enforcer(decoded.data)),
        ("  flavor predictor only (enforced input)", lambda: predictor.predict(enforced, None)),
        ("decode (JSON -> frame)", lambda: decoder.decode(payload.body, payload.content_type)),
        ("encode (predictions -> JSON)", lambda: encode_predictions(output)),
        ("whole app, werkzeug test client (default --timeout 60)", whole),
        ("whole app, --timeout 0 (prediction inline)", inline),
    ]
    print(f"## 1-row request, {bm.description}\n")
    print("| stage | us per call |\n|---|---|")
    for name, fn in stages:
        print(f"| {name} | {per_call_us(fn, args.calls):,.0f} |")

    try:
        if args.cprofile:
            raise ImportError
        from pyinstrument import Profiler
    except ImportError:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.calls):
            inline()
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print("\n### cProfile, --timeout 0, sorted by own time\n\n```\n" + out.getvalue() + "```")
    else:
        prof = Profiler(interval=0.0001)
        prof.start()
        for _ in range(args.calls):
            inline()
        prof.stop()
        text = prof.output_text(unicode=False, color=False, show_all=False)
        print(f"\n### pyinstrument, {args.calls} calls, --timeout 0\n\n```\n{text}```")
    app.close()
    inline_app.close()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
