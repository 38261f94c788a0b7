"""The server's routes: which paths exist, the endpoint each names, and the labels a request
is counted under in the metrics (its route's pattern and a served model's name)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Map, Rule

from mlserve.server import _v2 as v2

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from mlserve.server._served import ServedModel

__all__ = ["ROUTES", "ROUTE_LIST", "count_labels", "note_route", "url_map"]

#: (path, endpoint, method) of every route but the V2 ones (mlserve.server._v2.rules)
ROUTES = (
    ("/ping", "ping", "GET"),
    ("/health", "health", "GET"),
    ("/version", "version", "GET"),
    ("/metadata", "metadata", "GET"),
    ("/invocations", "invocations", "POST"),
    ("/models/<name>/invocations", "model_invocations", "POST"),
    ("/metrics", "metrics", "GET"),
    ("/openapi.json", "openapi", "GET"),
    ("/", "model_page", "GET"),
)
#: what a 404 lists
ROUTE_LIST = ", ".join(f"{method} {path}" for path, _, method in ROUTES)
# the WSGI environ keys where a request's route pattern and model name are left for the count
_ROUTE_KEY = "mlserve.route"
_MODEL_KEY = "mlserve.model"
# routes that serve the first model without naming it
_DEFAULT_MODEL_ROUTES = frozenset(("/invocations", "/metadata"))


def url_map() -> Map:
    """The routing table: every route, and the V2 routes."""
    # OPTIONS on every route answers 204 with Allow, as MLflow's Flask server does
    return Map(
        [Rule(path, endpoint=name, methods=[m, "OPTIONS"]) for path, name, m in ROUTES] + v2.rules()
    )


def note_route(environ: WSGIEnvironment, rule: Rule, values: Mapping[str, Any]) -> None:
    """Leave the matched route's pattern (and the model name in the URL) in ``environ``."""
    environ[_ROUTE_KEY] = rule.rule
    if "name" in values:
        environ[_MODEL_KEY] = values["name"]


def count_labels(
    environ: WSGIEnvironment, models: Mapping[str, ServedModel], default_name: str
) -> tuple[str, str | None, str]:
    """``(model, version, route)`` an answered request is counted under: its route's pattern
    and a served model's name only (a name from the URL that is not served is not a label: no
    unbounded series)."""
    route = environ.get(_ROUTE_KEY, "")  # "": no route matched (404)
    name = environ.get(_MODEL_KEY)
    served = models.get(default_name if name is None else name)
    if served is None or (name is None and route not in _DEFAULT_MODEL_ROUTES):
        return "", None, route
    return served.name, served.version, route
