"""The cases of test_mlflow_inputs.py: the models MLflow writes (a script run in its venv),
the requests, and which answers must match (SAME), differ on purpose (DIFFERENT, each in
the differences table of docs/rest-api.md or docs/payloads.md) or are pending (PENDING, strict
xfails)."""

from __future__ import annotations

from typing import Any, NamedTuple

# Run in MLflow's venv: each graph saved by mlflow.onnx.save_model under argv[1]/<name>, with the
# signature MLflow infers from the example (none without one).
WRITE_MODELS = """
import sys
import numpy as np, pandas as pd, onnx
from onnx import TensorProto as T, helper as h
import mlflow.onnx
from mlflow.models import infer_signature

def graph(inputs, outputs, nodes, initializers=()):
    g = h.make_graph(nodes, "g", [h.make_tensor_value_info(*i) for i in inputs],
                     [h.make_tensor_value_info(*o) for o in outputs], list(initializers))
    model = h.make_model(g, opset_imports=[h.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model

axes = h.make_tensor("axes", T.INT64, [1], [1])
row_sum = graph([("x", T.FLOAT, ["N", 3])], [("y", T.FLOAT, ["N", 1])],
                [h.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=1)], [axes])
pair_sum = graph([("x", T.FLOAT, ["N", 2])], [("y", T.FLOAT, ["N", 1])],
                 [h.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=1)], [axes])
neg = graph([("x", T.FLOAT, ["N"])], [("y", T.FLOAT, ["N"])], [h.make_node("Neg", ["x"], ["y"])])
add = lambda shape: graph([("a", T.FLOAT, shape), ("b", T.FLOAT, shape)], [("y", T.FLOAT, shape)],
                          [h.make_node("Add", ["a", "b"], ["y"])])
neg_int = graph([("x", T.INT64, ["N", 3])], [("y", T.INT64, ["N", 3])],
                [h.make_node("Neg", ["x"], ["y"])])
mixed = graph([("a", T.FLOAT, ["N"]), ("b", T.INT64, ["N"])],
              [("y", T.FLOAT, ["N"]), ("z", T.INT64, ["N"])],
              [h.make_node("Neg", ["a"], ["y"]), h.make_node("Neg", ["b"], ["z"])])
strings = graph([("x", T.STRING, ["N", 2])], [("y", T.STRING, ["N", 2])],
                [h.make_node("Identity", ["x"], ["y"])])
string_and_float = graph([("s", T.STRING, ["N"]), ("v", T.FLOAT, ["N"])],
                         [("y", T.FLOAT, ["N"]), ("t", T.STRING, ["N"])],
                         [h.make_node("Neg", ["v"], ["y"]), h.make_node("Identity", ["s"], ["t"])])
f32 = np.float32
models = {
    "one-rank2": (row_sum, None),
    "one-rank2-colsig": (row_sum, pd.DataFrame(f32([[1, 2, 3]]), columns=["c0", "c1", "c2"])),
    "one-rank2-tensorsig": (row_sum, f32([[1, 2, 3]])),
    "one-rank1": (neg, None),
    "one-rank1-colsig": (neg, pd.DataFrame({"x": f32([1, 2])})),
    "one-rank1-tensorsig": (neg, f32([1, 2])),
    "two-rank2": (add(["N", 1]), None),
    "two-rank2-tensorsig": (add(["N", 1]), {"a": f32([[1], [2]]), "b": f32([[3], [4]])}),
    "two-rank1": (add(["N"]), None),
    "two-rank1-colsig": (add(["N"]), pd.DataFrame({"a": f32([1, 2]), "b": f32([3, 4])})),
    "int64": (neg_int, None),
    "float-and-int64": (mixed, None),
    "strings": (strings, None),
    "strings-colsig": (strings, pd.DataFrame({"p": ["a", "b"], "q": ["c", "d"]})),
    "strings-tensorsig": (strings, np.array([["a", "c"], ["b", "d"]])),
    # two long columns (an integer example) for a float [N, 2] graph
    "two-wide-longsig": (pair_sum, pd.DataFrame(np.int64([[1, 2]]), columns=["c0", "c1"])),
    "string-and-float": (string_and_float, None),
}
for name, (model, example) in models.items():
    extra = {} if example is None else {"input_example": example,
                                        "signature": infer_signature(example)}
    mlflow.onnx.save_model(model, f"{sys.argv[1]}/{name}", **extra)
"""

R = [[1.5, 2, 3], [4, 5, 6.5]]  # JSON numbers: float64 in both servers
R_INT = [[1, 2, 3], [4, 5, 6]]  # JSON integers: int64 in both servers
C3 = ["c0", "c1", "c2"]


class Case(NamedTuple):
    model: str
    body: Any  # JSON-encoded unless it is a str
    content_type: str = "application/json"


def split(model: str, columns: list[Any], data: list[Any]) -> Case:
    return Case(model, {"dataframe_split": {"columns": columns, "data": data}})


def records(model: str, columns: list[str], data: list[Any]) -> Case:
    return Case(model, {"dataframe_records": [dict(zip(columns, r, strict=True)) for r in data]})


def csv(model: str, text: str) -> Case:
    return Case(model, text, "text/csv")


def inputs(model: str, value: Any) -> Case:
    return Case(model, {"inputs": value})


def instances(model: str, value: Any) -> Case:
    return Case(model, {"instances": value})


SAME = {
    # one input [N, 3]: a DataFrame goes to it whole, whatever its columns are named
    "one-rank2/split": split("one-rank2", C3, R),
    "one-rank2/split-other-names": split("one-rank2", ["p", "q", "r"], R),
    "one-rank2/split-a-column-named-x": split("one-rank2", ["x", "q", "r"], R),
    "one-rank2/split-extra-column": split("one-rank2", [*C3, "c3"], [[*r, 9.5] for r in R]),
    "one-rank2/split-two-columns": split("one-rank2", ["c0", "c1"], [r[:2] for r in R]),
    "one-rank2/split-lists-in-x": split("one-rank2", ["x"], [[r] for r in R]),
    "one-rank2/split-a-string-column": split("one-rank2", C3, [[1.5, 2.5, "a"]]),
    "one-rank2/records": records("one-rank2", C3, R),
    "one-rank2/csv": csv("one-rank2", "c0,c1,c2\n1.5,2,3\n4,5,6.5\n"),
    "one-rank2/csv-integers": csv("one-rank2", "c0,c1,c2\n1,2,3\n"),
    "one-rank2/inputs-rows": inputs("one-rank2", R),
    "one-rank2/inputs-named": inputs("one-rank2", {"x": R}),
    "one-rank2/inputs-other-name": inputs("one-rank2", {"z": R}),
    "one-rank2/inputs-an-extra-name": inputs("one-rank2", {"x": R, "z": [1.5, 2.5]}),
    "one-rank2/inputs-columns": inputs("one-rank2", {"c0": [1.5, 4], "c1": [2, 5]}),
    "one-rank2/instances-rows": instances("one-rank2", R),
    "one-rank2/instances-named": instances("one-rank2", [{"x": r} for r in R]),
    "one-rank2/inputs-rank-1": inputs("one-rank2", [1.5, 2, 3]),
    "one-rank2/inputs-rank-3": inputs("one-rank2", [R]),
    "one-rank2/inputs-two-wide": inputs("one-rank2", [[1.5, 2], [4, 5]]),
    "one-rank2/inputs-strings": inputs("one-rank2", [["a", "b", "c"]]),
    # float64 becomes float32, and nothing else is converted: integers for a float input fail
    "one-rank2/split-integers": split("one-rank2", C3, R_INT),
    "one-rank2/inputs-integers": inputs("one-rank2", R_INT),
    "one-rank2-colsig/split": split("one-rank2-colsig", C3, R),
    "one-rank2-colsig/split-integers": split("one-rank2-colsig", C3, R_INT),
    "one-rank2-colsig/split-extra-column": split(
        "one-rank2-colsig", [*C3, "c3"], [[*r, 9.5] for r in R]
    ),
    "one-rank2-colsig/records": records("one-rank2-colsig", C3, R),
    "one-rank2-tensorsig/inputs-rows": inputs("one-rank2-tensorsig", R),
    "one-rank2-tensorsig/inputs-integers": inputs("one-rank2-tensorsig", R_INT),
    "one-rank2-tensorsig/split": split("one-rank2-tensorsig", C3, R),
    "one-rank2-tensorsig/inputs-two-wide": inputs("one-rank2-tensorsig", [[1.5, 2]]),
    # one input [N]: a frame is [rows, columns], rank 2, so no frame fits it
    "one-rank1/split": split("one-rank1", ["x"], [[1.5], [2]]),
    "one-rank1/split-other-name": split("one-rank1", ["z"], [[1.5], [2]]),
    "one-rank1/records": records("one-rank1", ["x"], [[1.5], [2]]),
    "one-rank1/inputs-list": inputs("one-rank1", [1.5, 2]),
    "one-rank1/inputs-named": inputs("one-rank1", {"x": [1.5, 2]}),
    "one-rank1/inputs-a-column": inputs("one-rank1", [[1.5], [2]]),
    "one-rank1/inputs-integers": inputs("one-rank1", [1, 2]),
    "one-rank1/instances-list": instances("one-rank1", [1.5, 2]),
    "one-rank1-colsig/split": split("one-rank1-colsig", ["x"], [[1.5], [2]]),
    "one-rank1-colsig/inputs-list": inputs("one-rank1-colsig", [1.5, 2]),
    "one-rank1-tensorsig/inputs-list": inputs("one-rank1-tensorsig", [1.5, 2]),
    # two inputs [N, 1]: each input is its column, 1-D, so a frame does not fit them
    "two-rank2/split": split("two-rank2", ["a", "b"], [[1.5, 3], [2, 4.5]]),
    "two-rank2/records": records("two-rank2", ["a", "b"], [[1.5, 3], [2, 4.5]]),
    "two-rank2/split-missing-b": split("two-rank2", ["a"], [[1.5], [2]]),
    "two-rank2/inputs-named-columns": inputs("two-rank2", {"a": [[1.5], [2]], "b": [[3], [4]]}),
    "two-rank2/inputs-named-1d": inputs("two-rank2", {"a": [1.5, 2], "b": [3, 4.5]}),
    "two-rank2/inputs-an-extra-name": inputs(
        "two-rank2", {"a": [[1.5]], "b": [[3.5]], "c": [[0.5]]}
    ),
    "two-rank2/inputs-missing-b": inputs("two-rank2", {"a": [[1.5], [2]]}),
    "two-rank2/instances-named-columns": instances(
        "two-rank2", [{"a": [1.5], "b": [3]}, {"a": [2], "b": [4.5]}]
    ),
    "two-rank2-tensorsig/inputs-named-columns": inputs(
        "two-rank2-tensorsig", {"a": [[1.5], [2]], "b": [[3], [4]]}
    ),
    # two inputs [N]: a frame's columns by name, in any order, other columns ignored
    "two-rank1/split": split("two-rank1", ["a", "b"], [[1.5, 3], [2, 4.5]]),
    "two-rank1/split-reordered": split("two-rank1", ["b", "a"], [[3, 1.5], [4.5, 2]]),
    "two-rank1/split-extra-column": split("two-rank1", ["a", "b", "c"], [[1.5, 3, 0.5]]),
    "two-rank1/split-missing-b": split("two-rank1", ["a"], [[1.5], [2]]),
    "two-rank1/split-other-names": split("two-rank1", ["p", "q"], [[1.5, 3], [2, 4.5]]),
    "two-rank1/split-integers": split("two-rank1", ["a", "b"], [[1, 3], [2, 4]]),
    "two-rank1/records": records("two-rank1", ["a", "b"], [[1.5, 3], [2, 4.5]]),
    "two-rank1/csv": csv("two-rank1", "b,a\n3,1.5\n4.5,2\n"),
    "two-rank2/csv": csv("two-rank2", "a,b\n1.5,3\n2,4.5\n"),
    "strings/csv": csv("strings", "p,q\na,c\nb,d\n"),
    "two-rank1/inputs-named": inputs("two-rank1", {"a": [1.5, 2], "b": [3, 4.5]}),
    "two-rank1/inputs-named-integers": inputs("two-rank1", {"a": [1, 2], "b": [3, 4]}),
    "two-rank1/inputs-an-extra-name": inputs("two-rank1", {"a": [1.5], "b": [3.5], "c": [0.5]}),
    "two-rank1/instances-named": instances("two-rank1", [{"a": 1.5, "b": 3}, {"a": 2, "b": 4.5}]),
    "two-rank1-colsig/split": split("two-rank1-colsig", ["a", "b"], [[1.5, 3], [2, 4.5]]),
    "two-rank1-colsig/split-integers": split("two-rank1-colsig", ["a", "b"], [[1, 3], [2, 4]]),
    "two-rank1-colsig/inputs-named": inputs("two-rank1-colsig", {"a": [1.5, 2], "b": [3, 4.5]}),
    # int64: integers as they are; a fraction is not truncated into it
    "int64/split": split("int64", C3, R_INT),
    "int64/split-fractions": split("int64", C3, R),
    "int64/inputs-rows": inputs("int64", R_INT),
    "int64/inputs-fractions": inputs("int64", R),
    "int64/inputs-named-fractions": inputs("int64", {"x": R}),
    "float-and-int64/split": split("float-and-int64", ["a", "b"], [[1.5, 3], [2, 4]]),
    "float-and-int64/split-a-fraction-for-b": split("float-and-int64", ["a", "b"], [[1.5, 3.5]]),
    "float-and-int64/split-an-integer-for-a": split("float-and-int64", ["a", "b"], [[1, 3]]),
    "float-and-int64/inputs-named": inputs("float-and-int64", {"a": [1.5, 2], "b": [3, 4]}),
    # strings: a one-input graph takes the frame's strings; numbers are not made strings
    "strings/split": split("strings", ["p", "q"], [["a", "c"], ["b", "d"]]),
    "strings/inputs-rows": inputs("strings", [["a", "c"], ["b", "d"]]),
    "strings/inputs-named": inputs("strings", {"x": [["a", "c"], ["b", "d"]]}),
    "strings/split-numbers": split("strings", ["p", "q"], [[1.5, 2]]),
    "strings/inputs-numbers": inputs("strings", [[1.5, 2]]),
    "strings/inputs-integers": inputs("strings", [[1, 2]]),
    "strings/inputs-named-numbers": inputs("strings", {"x": [[1.5, 2]]}),
    "strings/instances-numbers": instances("strings", [[1.5, 2]]),
    "strings/records-numbers": records("strings", ["p", "q"], [[1.5, 2]]),
    "strings/csv-numbers": csv("strings", "p,q\n1.5,2\n"),
    # a number among strings: numpy makes the whole array strings, in both servers
    "strings/inputs-a-number-among-strings": inputs("strings", [["a", 2]]),
    "string-and-float/inputs-named-numbers-for-s": inputs(
        "string-and-float", {"s": [1, 2], "v": [1.5, 2]}
    ),
    "string-and-float/instances-named-numbers-for-s": instances(
        "string-and-float", [{"s": 1, "v": 1.5}]
    ),
    # a string tensor signature: MLflow casts the JSON rows to str (np.array(rows, dtype=str)),
    # each value as written (2 -> "2", true -> "True")
    "strings-tensorsig/inputs-rows": inputs("strings-tensorsig", [["a", "c"], ["b", "d"]]),
    "strings-tensorsig/inputs-integers": inputs("strings-tensorsig", [[1, 2]]),
    "strings-tensorsig/inputs-a-number-among-strings": inputs("strings-tensorsig", [["a", 2]]),
    "strings-tensorsig/inputs-numbers": inputs("strings-tensorsig", [[1.5, 2]]),
    "strings-tensorsig/instances-numbers": instances("strings-tensorsig", [[1.5, 2]]),
    "strings-tensorsig/inputs-a-boolean-and-a-number": inputs("strings-tensorsig", [[True, 1.5]]),
    "strings-tensorsig/inputs-ragged": inputs("strings-tensorsig", [["a", "c"], ["b"]]),
    # a frame for it: MLflow refuses the whole frame (its to_numpy() is objects, not str) and a
    # column of single values (shape [-1, 2]); a column of lists is stacked and cast to str as
    # the frame holds it (2 -> "2.0"); CSV is refused while MLflow parses it (BAD_REQUEST)
    "strings-tensorsig/split": split("strings-tensorsig", ["p", "q"], [["a", "c"], ["b", "d"]]),
    "strings-tensorsig/split-numbers": split("strings-tensorsig", ["p", "q"], [[1.5, 2]]),
    "strings-tensorsig/records": records("strings-tensorsig", ["p", "q"], [["a", "c"]]),
    "strings-tensorsig/split-one-column": split("strings-tensorsig", ["p"], [["a"], ["b"]]),
    "strings-tensorsig/split-lists-of-numbers": split(
        "strings-tensorsig", ["x"], [[[1.5, 2]], [[3, 4]]]
    ),
    "strings-tensorsig/csv-numbers": csv("strings-tensorsig", "p,q\n1.5,2\n"),
    "strings-tensorsig/csv-strings": csv("strings-tensorsig", "p,q\na,c\n"),
    # a string column signature: strings as they are; a CSV's numbers are read as strings
    "strings-colsig/split": split("strings-colsig", ["p", "q"], [["a", "c"], ["b", "d"]]),
    "strings-colsig/csv-numbers": csv("strings-colsig", "p,q\n1.5,2\n"),
    # numbers for a string column reach the model as sent (as their text under inputs), as in
    # MLflow; the ONNX flavor feeds a string input their text
    "strings-colsig/split-numbers": split("strings-colsig", ["p", "q"], [[1.5, 2]]),
    "strings-colsig/inputs-columns-numbers": inputs("strings-colsig", {"p": [1.5], "q": [2]}),
    "string-and-float/inputs-named": inputs("string-and-float", {"s": ["a", "b"], "v": [1.5, 2]}),
    "string-and-float/split-numbers-for-s": split(
        "string-and-float", ["s", "v"], [[1, 1.5], [2, 2]]
    ),
    # a frame for a tensor signature, as MLflow's _enforce_tensor_schema reads it: one column
    # fills a [-1] or [-1, 1] tensor, a column of lists is stacked, named tensors take the column
    # of their name (other columns ignored)
    "one-rank1-tensorsig/split": split("one-rank1-tensorsig", ["x"], [[1.5], [2]]),
    "one-rank1-tensorsig/split-other-name": split("one-rank1-tensorsig", ["z"], [[1.5], [2]]),
    "one-rank1-tensorsig/records": records("one-rank1-tensorsig", ["x"], [[1.5], [2]]),
    "two-rank2-tensorsig/split": split("two-rank2-tensorsig", ["a", "b"], [[1.5, 3], [2, 4.5]]),
    "two-rank2-tensorsig/split-integers": split(
        "two-rank2-tensorsig", ["a", "b"], [[1, 3], [2, 4]]
    ),
    "two-rank2-tensorsig/split-reordered": split(
        "two-rank2-tensorsig", ["b", "a"], [[3, 1.5], [4.5, 2]]
    ),
    "two-rank2-tensorsig/split-extra-column": split(
        "two-rank2-tensorsig", ["a", "b", "c"], [[1.5, 3, 0], [2, 4.5, 0]]
    ),
    "two-rank2-tensorsig/records": records("two-rank2-tensorsig", ["a", "b"], [[1.5, 3], [2, 4.5]]),
    "one-rank2-tensorsig/split-lists-in-x": split("one-rank2-tensorsig", ["x"], [[r] for r in R]),
    # an object for an unnamed tensor: refused while MLflow parses the body (BAD_REQUEST); named
    # rows of one: refused by its enforcement (INVALID_PARAMETER_VALUE)
    "one-rank2-tensorsig/inputs-named": inputs("one-rank2-tensorsig", {"x": R}),
    "one-rank2-tensorsig/inputs-other-name": inputs("one-rank2-tensorsig", {"z": R}),
    "one-rank2-tensorsig/inputs-named-columns": inputs(
        "one-rank2-tensorsig", {"c0": [1.5, 4], "c1": [2, 5], "c2": [3, 6.5]}
    ),
    "one-rank2-tensorsig/inputs-named-and-another": inputs(
        "one-rank2-tensorsig", {"x": R, "z": [1.5, 2]}
    ),
    "one-rank1-tensorsig/inputs-named": inputs("one-rank1-tensorsig", {"x": [1.5, 2]}),
    "one-rank2-tensorsig/instances-named": instances("one-rank2-tensorsig", [{"x": r} for r in R]),
    "one-rank1-tensorsig/instances-named": instances("one-rank1-tensorsig", [{"x": 1.5}, {"x": 2}]),
    # a string for a float tensor fails MLflow's cast: BAD_REQUEST
    "one-rank2-tensorsig/inputs-strings": inputs("one-rank2-tensorsig", [["a", "b", "c"]]),
    "one-rank2-tensorsig/split-a-string": split("one-rank2-tensorsig", C3, [[1.5, 2, "a"]]),
    # lists per column for a column signature: MLflow's enforcement refuses them
    "two-rank1-colsig/inputs-named-columns": inputs(
        "two-rank1-colsig", {"a": [[1.5], [2]], "b": [[3], [4.5]]}
    ),
    "two-rank1-colsig/instances-named-lists": instances(
        "two-rank1-colsig", [{"a": [1.5], "b": [3]}, {"a": [2], "b": [4.5]}]
    ),
    # MLflow reads any list for a one-column signature as that column: nested, a column of lists
    "one-rank1-colsig/inputs-named-a-column": inputs("one-rank1-colsig", {"x": [[1.5], [2]]}),
    # a long signature for a float graph: the frame's int64 is not converted, on both servers
    "two-wide-longsig/split": split("two-wide-longsig", ["c0", "c1"], [[1, 2], [4, 5]]),
    "two-wide-longsig/inputs-columns": inputs("two-wide-longsig", {"c0": [1, 4], "c1": [2, 5]}),
    "two-wide-longsig/inputs-three-wide": inputs("two-wide-longsig", [[1, 2, 3]]),
    # rows for a column signature are MLflow's pd.DataFrame(rows), labelled 0..n-1: they miss a
    # named signature's columns (400 INVALID_PARAMETER_VALUE), and for a one-column signature
    # any list is that column ([[1.5], [2]] a column of lists, refused the same way)
    "one-rank2-colsig/inputs-rows": inputs("one-rank2-colsig", R),
    "one-rank1-colsig/inputs-a-column": inputs("one-rank1-colsig", [[1.5], [2]]),
    "one-rank1-colsig/instances-a-column": instances("one-rank1-colsig", [[1.5], [2]]),
    "two-wide-longsig/inputs-rows": inputs("two-wide-longsig", [[1, 2], [4, 5]]),
}

# Deliberate differences, with the reason: the table at the end of docs/rest-api.md (the
# data-level ones: docs/payloads.md, deliberate differences).
DIFFERENT = {
    "two-rank1/inputs-rows": (
        inputs("two-rank1", [[1.5, 3], [2, 4.5]]),
        "one array for a graph with several inputs is the client's mistake: 400 BAD_REQUEST "
        "naming the inputs; MLflow answers 500 INTERNAL_ERROR, which proxies and clients "
        "count as a server fault (retries, alerts, ejected replicas)",
    ),
    "string-and-float/split": (
        split("string-and-float", ["s", "v"], [["a", 1.5], ["b", 2]]),
        "a string column for one of several inputs is fed as strings; MLflow under pandas 3 "
        "passes ONNX Runtime an Arrow string array it refuses (400), under pandas 2 it answers "
        "200 with these values",
    ),
    # a null or an object for a str tensor (docs/payloads.md, deliberate differences): MLflow
    # gives the model the text "None" (an object: its Python repr)
    "strings-tensorsig/inputs-null": (
        inputs("strings-tensorsig", [["a", None]]),
        "null for a str tensor: 400 BAD_REQUEST; MLflow answers 200 with 'None'",
    ),
    "strings-tensorsig/inputs-an-object": (
        inputs("strings-tensorsig", [[{"a": 1}, "b"]]),
        "an object for a str tensor: 400 BAD_REQUEST; MLflow answers 200 with \"{'a': 1}\"",
    ),
}

# Differences made before the plugin sees the data: strict xfails, so they must move to SAME
# when the core matches MLflow.
PENDING: dict[str, tuple[Case, str]] = {}

_MODELS = sorted(
    {case.model for case in SAME.values()}
    | {case.model for case, _ in DIFFERENT.values()}
    | {case.model for case, _ in PENDING.values()}
)
