"""``GET /openapi.json`` of a real server: a valid OpenAPI 3.1 document of what it really does.

The document is read from a running ``python -m mlserve.server`` serving four models (named
columns with an input example, a tensor signature, a PythonModel with params, a chat model with
MLflow's unwrapped LLM body) and checked against the server itself: each documented body is
answered 200 and each answer matches its documented schema; bodies the signature forbids are
refused by the document and by the server alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import schemathesis

from .helpers import CHAT_SIGNATURE, by_value, start_server

pytestmark = pytest.mark.slow

JSON = "application/json"

# A chat model (MLflow's chat signature), compiled as __main__ so cloudpickle stores it by value
CHAT_SOURCE = """
def predict(model_input):
    return [len(m) for m in model_input["messages"]]
"""


@pytest.fixture(scope="module")
def model_dirs(  # type: ignore[no-untyped-def]
    tmp_path_factory: pytest.TempPathFactory,
    typed_model_dir,
    shapes_model_dir,
    seed_model,
    seed_data,
):
    import mlserve

    X, _ = seed_data
    root = tmp_path_factory.mktemp("openapi-models")
    mlserve.save_model(seed_model, root / "tensor", input_example=X[:2])
    chat = by_value(CHAT_SOURCE, "predict")
    mlserve.save_model(chat, root / "chat", flavor="python_function", signature=CHAT_SIGNATURE)
    return {
        "typed": typed_model_dir,
        "tensor": root / "tensor",
        "shapes": shapes_model_dir,
        "chat": root / "chat",
    }


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory, model_dirs: dict[str, Path]):  # type: ignore[no-untyped-def]
    args = [a for name, path in model_dirs.items() for a in ("-m", f"{name}={path}")]
    with start_server(tmp_path_factory.mktemp("openapi"), *args) as server:
        yield server.url


@pytest.fixture(scope="module")
def doc(url: str) -> dict[str, Any]:
    answer = requests.get(f"{url}/openapi.json", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == JSON
    return answer.json()


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _validator(doc: dict[str, Any], *parts: str) -> Any:
    """A validator for the schema at ``parts`` of the document (its $refs resolved in it)."""
    root = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": _pointer(*parts),
        "paths": doc["paths"],
        "components": doc["components"],
    }
    return jsonschema.Draft202012Validator(root)


def _request(doc: dict[str, Any], path: str, media: str = JSON) -> Any:
    return _validator(doc, "paths", path, "post", "requestBody", "content", media, "schema")


def _response(doc: dict[str, Any], path: str, status: int, method: str = "post") -> Any:
    return _validator(
        doc, "paths", path, method, "responses", str(status), "content", JSON, "schema"
    )


def test_the_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(doc).validate()  # the OpenAPI 3.1 meta-schema; raises


def test_every_route_of_the_server_is_in_it(doc: dict[str, Any]) -> None:
    expected = {"/", "/openapi.json", "/ping", "/health", "/version", "/metadata", "/metrics"}
    expected |= {"/invocations"}
    expected |= {"/v2", "/v2/health/live", "/v2/health/ready"}
    for name in ("typed", "tensor", "shapes", "chat"):
        expected |= {
            f"/models/{name}/invocations",
            f"/v2/models/{name}",
            f"/v2/models/{name}/ready",
            f"/v2/models/{name}/infer",
        }
    assert set(doc["paths"]) == expected  # no repository routes: not enabled
    assert doc["info"]["title"] == "mlserve: typed, tensor, shapes, chat"


def test_the_input_example_is_documented_valid_and_answered(url: str, doc: dict[str, Any]) -> None:
    for path in ("/invocations", "/models/typed/invocations"):
        content = doc["paths"][path]["post"]["requestBody"]["content"]
        example = content[JSON]["example"]
        assert set(example) == {"dataframe_split"}
        assert example["dataframe_split"]["columns"] == ["a", "b", "c", "d"]
        assert _request(doc, path).is_valid(example)
        answer = requests.post(f"{url}{path}", json=example, timeout=10)
        assert answer.status_code == 200, answer.text
        assert _response(doc, path, 200).is_valid(answer.json())
        # the CSV example is the same rows, and gets the same answer
        csv = content["text/csv"]["example"]
        assert csv.splitlines()[0] == "a,b,c,d"
        by_csv = requests.post(
            f"{url}{path}", data=csv, headers={"Content-Type": "text/csv"}, timeout=10
        )
        assert by_csv.json() == answer.json()


TYPED_ROWS = [[0.1, -0.2, 0.3, -0.4], [0.5, 0.6, -0.7, 0.8]]
TYPED_RECORDS = [dict(zip("abcd", row, strict=True)) for row in TYPED_ROWS]
ACCEPTED = {
    "split": {"dataframe_split": {"columns": list("abcd"), "data": TYPED_ROWS}},
    "split-other-order": {"dataframe_split": {"columns": list("dcba"), "data": TYPED_ROWS}},
    "records": {"dataframe_records": TYPED_RECORDS},
    "records-extra-key": {"dataframe_records": [{**r, "extra": "x"} for r in TYPED_RECORDS]},
    "instances-objects": {"instances": TYPED_RECORDS},
    "inputs-columns": {"inputs": {c: [r[i] for r in TYPED_ROWS] for i, c in enumerate("abcd")}},
    "null-is-nan": {"dataframe_split": {"columns": list("abcd"), "data": [[None, 1, 2, 3]]}},
    "with-params": {"dataframe_records": TYPED_RECORDS, "params": {"anything": 1}},
}
REFUSED = {
    # a boolean is not a number (a numeric string is, as MLflow's server reads it)
    "boolean-for-double": {"dataframe_records": [{**TYPED_RECORDS[0], "a": True}]},
    "missing-column": {"dataframe_records": [{"a": 1.0, "b": 2.0, "c": 3.0}]},
    "two-input-keys": {"instances": TYPED_ROWS, "inputs": TYPED_ROWS},
    "unknown-key": {"instances": TYPED_ROWS, "extra": 1},
    "row-too-long": {"instances": [[1.0, 2.0, 3.0, 4.0, 5.0]]},
    # rows are labelled 0..n-1, as MLflow's pd.DataFrame(rows): they miss the names a..d
    "instances-rows": {"instances": TYPED_ROWS},
    "inputs-rows": {"inputs": TYPED_ROWS},
    "records-rows": {"dataframe_records": TYPED_ROWS},
    "split-unknown-key": {"dataframe_split": {"columns": ["a"], "data": [[1.0]], "dtype": 1}},
}


@pytest.mark.parametrize("body", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_a_body_the_document_allows_is_answered(url: str, doc: dict[str, Any], body: Any) -> None:
    assert _request(doc, "/invocations").is_valid(body)
    answer = requests.post(f"{url}/invocations", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    assert _response(doc, "/invocations", 200).is_valid(answer.json())


@pytest.mark.parametrize("body", REFUSED.values(), ids=REFUSED.keys())
def test_a_body_the_document_forbids_is_refused(url: str, doc: dict[str, Any], body: Any) -> None:
    assert not _request(doc, "/invocations").is_valid(body)
    answer = requests.post(f"{url}/invocations", json=body, timeout=10)
    assert answer.status_code == 400, answer.text
    assert _response(doc, "/invocations", 400).is_valid(answer.json())


def test_a_tensor_signature_is_nested_arrays_of_its_shape(url: str, doc: dict[str, Any]) -> None:
    path = "/models/tensor/invocations"
    good, narrow = {"inputs": TYPED_ROWS}, {"inputs": [[1.0, 2.0, 3.0]]}
    assert _request(doc, path).is_valid(good)
    assert requests.post(f"{url}{path}", json=good, timeout=10).status_code == 200
    assert not _request(doc, path).is_valid(narrow)  # the signature says 4 values a row
    assert requests.post(f"{url}{path}", json=narrow, timeout=10).status_code == 400
    example = doc["paths"][path]["post"]["requestBody"]["content"][JSON]["example"]
    assert set(example) == {"inputs"} and [len(row) for row in example["inputs"]] == [4, 4]
    assert _request(doc, path).is_valid(example)
    assert requests.post(f"{url}{path}", json=example, timeout=10).status_code == 200


@pytest.mark.parametrize("name", ["tensor", "chat"])
def test_csv_is_not_offered_where_it_is_refused(url: str, doc: dict[str, Any], name: str) -> None:
    # MLflow's CSV parsing fails for a tensor signature and for array/object columns; so does ours
    path = f"/models/{name}/invocations"
    assert "text/csv" not in doc["paths"][path]["post"]["requestBody"]["content"]
    answer = requests.post(
        f"{url}{path}", data=b"a,b,c,d\n1,2,3,4\n", headers={"Content-Type": "text/csv"}, timeout=10
    )
    assert answer.status_code == 400 and answer.json()["error_code"] == "BAD_REQUEST"
    assert "a CSV body cannot carry" in answer.json()["message"]
    page = requests.get(f"{url}/", timeout=10).text
    section = page[page.index(f'id="model-{name}"') :]
    section = section[: section.index("</section>")]
    assert 'value="text/csv"' not in section
    assert 'value="text/csv"' in page  # the typed model's section offers it


def test_params_are_documented_with_their_types_and_defaults(url: str, doc: dict[str, Any]) -> None:
    path = "/models/shapes/invocations"
    forms = doc["paths"][path]["post"]["requestBody"]["content"][JSON]["schema"]["oneOf"]
    params = forms[0]["properties"]["params"]["properties"]
    assert params["kind"] == {"type": "string", "default": "frame"}
    assert params["scale"] == {"type": "number", "default": 2.0}
    body = {"dataframe_split": {"columns": ["v"], "data": [[1.0]]}, "params": {"scale": "x"}}
    assert not _request(doc, path).is_valid(body)
    answer = requests.post(f"{url}{path}", json=body, timeout=10)
    assert answer.status_code == 400 and answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_the_unwrapped_llm_body_is_documented_for_a_chat_model(
    url: str, doc: dict[str, Any]
) -> None:
    path = "/models/chat/invocations"
    forms = doc["paths"][path]["post"]["requestBody"]["content"][JSON]["schema"]["oneOf"]
    assert [f["title"] for f in forms][-1] == "MLflow's unwrapped LLM request"
    typed = doc["paths"]["/invocations"]["post"]["requestBody"]["content"][JSON]["schema"]
    assert "MLflow's unwrapped LLM request" not in [f["title"] for f in typed["oneOf"]]
    body = {"messages": [{"role": "user", "content": "hi"}], "temperature": 0.2}
    assert _request(doc, path).is_valid(body)
    assert not _request(doc, path).is_valid({"messages": [{"role": "user"}]})  # no content
    answer = requests.post(f"{url}{path}", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json() == [1]  # the bare predictions, as MLflow answers this body
    assert _response(doc, path, 200).is_valid(answer.json())


@pytest.mark.parametrize(
    ("path", "body", "headers", "status"),
    [
        ("/invocations", b"{}", {}, 415),
        ("/invocations", b"{}", {"Content-Type": "text/plain"}, 415),
        ("/invocations", b"{", {"Content-Type": JSON}, 400),
        ("/invocations", b"a,b\n1,2\n", {"Content-Type": "text/csv"}, 400),
    ],
    ids=["no-content-type", "text-plain", "malformed-json", "csv-missing-columns"],
)
def test_error_answers_are_documented(
    url: str, doc: dict[str, Any], path: str, body: bytes, headers: dict[str, str], status: int
) -> None:
    answer = requests.post(f"{url}{path}", data=body, headers=headers, timeout=10)
    assert answer.status_code == status, answer.text
    assert str(status) in doc["paths"][path]["post"]["responses"]
    assert _response(doc, path, status).is_valid(answer.json())
    codes = doc["components"]["schemas"]["Error"]["properties"]["error_code"]["enum"]
    assert answer.json()["error_code"] in codes


def test_the_v2_routes_and_example(url: str, doc: dict[str, Any]) -> None:
    path = "/v2/models/typed/infer"
    example = doc["paths"][path]["post"]["requestBody"]["content"][JSON]["example"]
    assert [i["name"] for i in example["inputs"]] == ["a", "b", "c", "d"]
    assert _request(doc, path).is_valid(example)
    answer = requests.post(f"{url}{path}", json=example, timeout=10)
    assert answer.status_code == 200, answer.text
    assert _response(doc, path, 200).is_valid(answer.json())
    # the same rows on /invocations give the same predictions
    split = requests.post(f"{url}/invocations", json=ACCEPTED["split"], timeout=10).json()
    by_split = requests.post(
        f"{url}/invocations",
        json=doc["paths"]["/invocations"]["post"]["requestBody"]["content"][JSON]["example"],
        timeout=10,
    ).json()
    assert answer.json()["outputs"][0]["data"] == by_split["predictions"]
    assert split["predictions"]
    metadata = requests.get(f"{url}/v2/models/typed", timeout=10)
    assert _response(doc, "/v2/models/typed", 200, "get").is_valid(metadata.json())
    bad = requests.post(f"{url}{path}", json={"inputs": []}, timeout=10)
    assert bad.status_code == 400
    assert _response(doc, path, 400).is_valid(bad.json())
    assert not _response(doc, "/invocations", 400).is_valid(bad.json())  # {"error"} on V2


def test_the_columnar_media_types_are_documented_when_pyarrow_is_there(
    doc: dict[str, Any],
) -> None:
    from mlserve.codecs import _columnar as columnar

    content = doc["paths"]["/invocations"]["post"]["requestBody"]["content"]
    columnar_types = {"application/vnd.apache.parquet", "application/vnd.apache.arrow.stream"}
    assert (columnar_types <= set(content)) is columnar.available()
    assert {JSON, "text/csv"} <= set(content)


def test_a_model_without_signature_takes_any_shape(tmp_path: Path, seed_model_dir: Path) -> None:
    """In process: the document's untyped forms, and the repository routes when enabled."""
    from werkzeug.test import Client

    import mlserve
    from mlserve.server import create_app

    app = create_app(
        {"seed": mlserve.load_model(str(seed_model_dir))},
        repository=tmp_path / "state",
        loader=mlserve.load_model,
    )
    try:
        found = Client(app).get("/openapi.json").get_json()
        page = Client(app).get("/").get_data(as_text=True)
    finally:
        app.close()
    assert "None: no signature." in page and "saved without an input example" in page
    schemathesis.openapi.from_dict(found).validate()
    assert {"/v2/repository/index", "/v2/repository/models/{name}/load"} <= set(found["paths"])
    body = {"inputs": [[1, 2, 3, 4]]}
    assert _request(found, "/invocations").is_valid(body)
    assert "example" not in found["paths"]["/invocations"]["post"]["requestBody"]["content"][JSON]
    assert json.dumps(found, allow_nan=False)


def test_the_document_and_page_follow_repository_loads(
    tmp_path: Path, seed_model_dir: Path, typed_model_dir: Path
) -> None:
    """In process: a model loaded while serving appears in both, an unloaded one leaves."""
    from werkzeug.test import Client

    import mlserve
    from mlserve.server import create_app

    app = create_app(
        {"seed": mlserve.load_model(str(seed_model_dir))},
        repository=tmp_path / "state",
        loader=mlserve.load_model,
    )
    client = Client(app)
    try:
        assert "/models/late/invocations" not in client.get("/openapi.json").get_json()["paths"]
        body = json.dumps({"parameters": {"uri": str(typed_model_dir)}})
        loaded = client.post("/v2/repository/models/late/load", data=body)
        assert loaded.status_code == 200, loaded.get_data(as_text=True)
        paths = client.get("/openapi.json").get_json()["paths"]
        assert {"/models/late/invocations", "/v2/models/late/infer"} <= set(paths)
        assert 'id="model-late"' in client.get("/").get_data(as_text=True)
        assert client.post("/v2/repository/models/late/unload").status_code == 200
        assert "/models/late/invocations" not in client.get("/openapi.json").get_json()["paths"]
        assert 'id="model-late"' not in client.get("/").get_data(as_text=True)
    finally:
        app.close()
