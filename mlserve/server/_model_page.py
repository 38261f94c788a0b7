"""The model page (``GET /``): what a person needs to call the served models, in plain HTML.

For each model: its name, version, flavors and origin, the signature as tables (inputs,
outputs, params), a ready-to-copy ``curl`` for its input example, and a form that sends a body
to its invocations URL and shows the answer. The script and the style sheet are package data
(``_page/``), inlined, so the page needs nothing but this server: no CDN, it works offline.

Everything that comes from a model's files (names, types, defaults, metadata, the example) is
HTML-escaped. On top of that the page is sent with a Content-Security-Policy that runs only the
page's own script (by its hash) and lets it talk only to this server, so even markup slipped
into a model's files could not run script.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from functools import cache
from html import escape
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mlserve.codecs._csv import csv_refusal
from mlserve.server._metadata import input_example_body
from mlserve.server._openapi import csv_example

if TYPE_CHECKING:
    from mlserve.server._served import ServedModel

__all__ = ["page_headers", "render_page"]


@cache
def _asset(name: str) -> str:
    return resources.files("mlserve.server").joinpath("_page", name).read_text(encoding="utf-8")


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def page_headers() -> list[tuple[str, str]]:
    """The headers the page is sent with: its media type and a policy that runs only its own
    script and style and lets it connect only to this server."""
    policy = (
        f"default-src 'none'; script-src {_hash(_asset('page.js'))}; "
        f"style-src {_hash(_asset('page.css'))}; connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    return [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Security-Policy", policy),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
    ]


def render_page(models: Sequence[ServedModel], version: str) -> bytes:
    """The page for ``models`` (the first one answers ``/invocations``), as UTF-8 HTML."""
    sections = [
        _section(served, "invocations" if i == 0 else _model_url(served.name))
        for i, served in enumerate(models)
    ]
    names = ", ".join(s.name for s in models)
    nav = ""
    if len(models) > 1:
        links = " · ".join(f'<a href="#{_anchor(s.name)}">{escape(s.name)}</a>' for s in models)
        nav = f"<nav>Models: {links}</nav>"
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mlserve: {escape(names)}</title>
<style>{_asset("page.css")}</style>
</head>
<body>
<header>
<h1>mlserve</h1>
<p>mlserve {escape(version)} · <a href="openapi.json">OpenAPI document</a> ·
<a href="metadata">metadata</a> · <a href="https://mlflow.org/docs/latest/deployment/">MLflow
scoring protocol</a></p>
{nav}
</header>
{"".join(sections)}
<script>{_asset("page.js")}</script>
</body>
</html>
"""
    return page.encode("utf-8")


def _model_url(name: str) -> str:
    return f"models/{quote(name, safe='')}/invocations"


def _anchor(name: str) -> str:
    return "model-" + quote(name, safe="")


def _section(served: ServedModel, url: str) -> str:
    model = served.model
    info = model.metadata
    flavors = getattr(info, "flavors", None) or {}
    own = [f for f in flavors if f != "python_function"] or list(flavors)
    facts = [
        ("Name", served.name),
        ("Version", served.version if served.version is not None else "(none)"),
        ("Flavor", ", ".join(map(str, own)) or "(none)"),
        ("Model URI", getattr(model, "model_uri", None)),
        ("Run", getattr(info, "run_id", None)),
        ("Created", getattr(info, "utc_time_created", None)),
        ("Invocations URL", "/" + url),
    ]
    rows = "".join(
        f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts if v is not None
    )
    example = input_example_body(model)
    signature = model.signature
    parts = [
        f'<section class="model" id="{escape(_anchor(served.name))}">',
        f"<h2>{escape(served.name)}</h2>",
        f"<dl>{rows}</dl>",
        "<h3>Inputs</h3>",
        _spec_table(signature.inputs if signature else None, "inputs"),
        "<h3>Outputs</h3>",
        _spec_table(signature.outputs if signature else None, "outputs"),
        "<h3>Params</h3>",
        _params_table(signature.params if signature else None),
    ]
    user_metadata = getattr(info, "metadata", None)
    if user_metadata:
        text = json.dumps(user_metadata, indent=2, default=str, ensure_ascii=False)
        parts += ["<h3>Metadata</h3>", f'<pre class="metadata">{escape(text)}</pre>']
    csv = csv_refusal(served.decoder.plan.schema) is None
    parts += _try_it(url, example, csv=csv)
    parts.append("</section>")
    return "\n".join(parts)


def _spec_table(schema: Any, kind: str) -> str:
    if schema is None:
        what = "no signature" if kind == "inputs" else f"the signature declares no {kind}"
        return f'<p class="none">None: {what}.</p>'
    specs = list(schema.inputs)
    tensors = hasattr(specs[0], "shape")
    head = (
        "<th>name</th><th>dtype</th><th>shape</th>"
        if tensors
        else ("<th>name</th><th>type</th><th>required</th>")
    )
    rows = []
    for i, spec in enumerate(specs):
        name = spec.name if spec.name is not None else f"(position {i})"
        if tensors:
            cells = [str(name), spec.dtype.name, json.dumps(list(spec.shape))]
        else:
            cells = [str(name), str(spec.type), "yes" if spec.required else "no"]
        rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    return (
        f'<table class="signature {kind}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _params_table(params: Any) -> str:
    if params is None or not len(params):
        return '<p class="none">None declared.</p>'
    rows = []
    for spec in params:
        d = spec.to_dict()
        shape = "scalar" if d["shape"] is None else json.dumps(d["shape"])
        cells = [d["name"], d["type"], shape, json.dumps(d["default"], ensure_ascii=False)]
        rows.append("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in cells) + "</tr>")
    return (
        '<table class="params"><thead><tr><th>name</th><th>type</th><th>shape</th>'
        f"<th>default</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _try_it(url: str, example: Any, *, csv: bool) -> list[str]:
    """The example as curl and a form; CSV among its content types when the model takes it."""
    body = json.dumps(example, ensure_ascii=False) if example is not None else ""
    csv_text = csv_example(example) if csv else None
    parts = ["<h3>Try it</h3>"]
    if example is not None:
        curl = (
            f'curl -s <span class="origin">http://127.0.0.1:5000</span>/{escape(url)} '
            f"-H 'Content-Type: application/json' -d {escape(_shell_quote(body))}"
        )
        parts += [
            "<p>The model's input example, ready to copy:</p>",
            f'<pre class="curl">{curl}</pre>',
            '<button type="button" class="copy">Copy</button>',
        ]
    else:
        parts.append('<p class="none">The model was saved without an input example.</p>')
    if not csv:  # MLflow's CSV parsing cannot reach this signature, nor does ours
        csv_option = ""
    elif csv_text is not None:
        csv_option = f'<option value="text/csv" data-example="{escape(csv_text)}">text/csv</option>'
    else:
        csv_option = '<option value="text/csv">text/csv</option>'
    parts += [
        f'<form class="try" action="{escape(url)}" method="post">',
        '<div class="row"><label>Content-Type <select name="content_type">',
        f'<option value="application/json" data-example="{escape(body)}">application/json</option>',
        csv_option,
        "</select></label>",
        '<button type="submit">Send</button></div>',
        f'<textarea name="body" spellcheck="false" aria-label="request body">{escape(body)}'
        "</textarea>",
        "</form>",
        '<div class="answer" hidden><p class="status"></p><pre class="output"></pre></div>',
    ]
    return parts
