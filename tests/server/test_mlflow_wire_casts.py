"""Wire parity with MLflow's scoring server for what its ``inputs``/``instances`` casts make of
a body: the code of each refusal (BAD_REQUEST where MLflow's cast of the body fails,
INVALID_PARAMETER_VALUE where its enforcement refuses what the cast made), and the frames an
object of columns gives (a single value repeated down the lists' rows, an ``Any`` column's
dtype as pandas infers it). The same servers and checks as test_mlflow_wire (``_wire.py``).
"""

from __future__ import annotations

import pytest

from ._both_servers import COLUMNS
from ._wire import Case, assert_differs, assert_same

pytestmark = pytest.mark.slow

ROW = {"a": [1.5, 2.5], "o": {"p": 1}, "x": 1.0}  # the "complex" model's columns
RECORD = dict(zip(COLUMNS, [0.1, -0.2, 0.3, -0.4], strict=True))  # the forest's
T0 = "2024-01-02T03:04:05"
ECHO = {"params": {"kind": "echo"}}  # the "typed" model answers what it was given


def _instances(*rows: object) -> Case:
    return Case("complex", {"instances": list(rows)})


def _rf_rows(first: dict[str, object], second: dict[str, object]) -> Case:
    """Two rows of the forest's columns under ``instances``, each updated by its dict."""
    return Case("rf", {"instances": [{**RECORD, **first}, {**RECORD, **second}]})


SAME = {
    # instances rows with array/object columns: MLflow casts each cell (a failure: BAD_REQUEST),
    # stacks each key's cells, checks the counts, and its enforcement refuses the stacks
    "instances-array-item-not-a-number": _instances({**ROW, "a": ["x"]}),
    "instances-array-short-and-plain-as-text": _instances({**ROW, "a": [1.5], "x": "1"}),
    "instances-array-null": _instances({**ROW, "a": None}),
    "instances-object-null": _instances({**ROW, "o": None}),
    "instances-object-property-not-a-number": _instances({**ROW, "o": {"p": "z"}}),
    "instances-object-unknown-property": _instances({**ROW, "o": {"p": 1, "q": 2}}),
    "instances-plain-not-a-number": _instances({**ROW, "x": "zz"}),
    "instances-plain-boolean": _instances({**ROW, "x": True}),
    "instances-plain-number-as-text": _instances({**ROW, "x": "0.5"}),
    "instances-rows-that-fit": _instances(ROW, ROW),
    "instances-array-lengths-differ": _instances(ROW, {**ROW, "a": [1.5]}),
    "instances-object-missing-from-a-row": _instances(ROW, {"a": [1.5, 2.5], "x": 2.0}),
    "instances-array-missing-from-a-row": _instances(ROW, {"o": {"p": 1}, "x": 2.0}),
    "instances-row-not-an-object": _instances(ROW, 5),
    "instances-tensor-row-not-an-object": Case("tensor", {"instances": [RECORD, 5]}),
    "instances-tensor-objects": Case("tensor", {"instances": [RECORD]}),
    # a flat list for several columns: cast whole as the first column's type, then one column
    "inputs-object-then-number": Case("rf", {"inputs": [RECORD, 5]}),
    "inputs-number-then-object": Case("rf", {"inputs": [5, RECORD]}),
    "inputs-object-then-row": Case("rf", {"inputs": [RECORD, [0.1, 0.2, 0.3, 0.4]]}),
    "inputs-object-then-null": Case("rf", {"inputs": [RECORD, None]}),
    "inputs-object-then-number-integer-names": Case(
        "ints", {"inputs": [{"0": 1.0, "1": 2.0}, 5], "params": {}}
    ),
    "inputs-flat-text": Case("rf", {"inputs": ["x", 1, 2, 3]}),
    "inputs-flat-numbers": Case("rf", {"inputs": [1, 2, 3, 4]}),
    "inputs-flat-number-as-text": Case("rf", {"inputs": ["0.5", 2, 3, 4]}),
    "instances-flat-text": Case("rf", {"instances": ["x", 1, 2, 3]}),
    "inputs-object-then-number-string-first": Case(
        "typed", {"inputs": [{"s": "a", "t": "2024-01-02"}, 5]}
    ),
    "inputs-flat-for-array-first": Case("complex", {"instances": [1.5, 2.5]}),
    "inputs-flat-text-for-array-first": Case("complex", {"instances": ["x", 2.5]}),
    # a float tensor: MLflow's np.array(data, dtype) reads numbers written as text
    "tensor-number-as-text": Case("tensor", {"inputs": [["0.5", 1, 2, 3]]}),
    "tensor-numbers-as-text-instances": Case("tensor", {"instances": [[" 0.5", "1e1", 2, 3]]}),
    "tensor-text": Case("tensor", {"inputs": [["x", 1, 2, 3]]}),
    "tensor-object-then-number": Case("tensor", {"inputs": [RECORD, 5]}),
    "tensor-objects": Case("tensor", {"inputs": [RECORD]}),
    # an object of columns: pd.DataFrame(dict) repeats a single value down the lists' rows
    "inputs-columns-one-repeated": Case(
        "rf", {"inputs": {"0": [0.1, 0.5], "1": -0.2, "2": 0.3, "3": -0.4}}
    ),
    "instances-columns-one-repeated": Case(
        "rf", {"instances": {"0": [0.1, 0.5], "1": -0.2, "2": 0.3, "3": -0.4}}
    ),
    "inputs-columns-text-repeated": Case("typed", {"inputs": {"s": ["a", "b"], "t": "2024-01-02"}}),
    "inputs-columns-lengths-differ": Case(
        "rf", {"inputs": {"0": [0.1, 0.5], "1": [-0.2], "2": 0.3, "3": -0.4}}
    ),
    "instances-columns-lengths-differ": Case(
        "rf", {"instances": {"0": [0.1, 0.5], "1": [-0.2], "2": 0.3, "3": -0.4}}
    ),
    # a map column in an object of columns: a list is no map; an object's keys become rows
    "inputs-columns-map-list": Case("map", {"inputs": {"m": [{"k": 1.5}]}}),
    "inputs-columns-map-object": Case("map", {"inputs": {"m": {"k": 1.5, "j": 2.5}}}),
    "instances-columns-map-list": Case("map", {"instances": {"m": [{"k": 1.5}]}}),
    "inputs-map-rows": Case("map", {"inputs": [{"m": {"k": 1.5}}]}),
    # ... but MLflow casts the object as one map first: values that do not fit are BAD_REQUEST
    "inputs-columns-map-value-text": Case("map", {"inputs": {"m": {"k": "x"}}}),
    "inputs-columns-map-value-null": Case("map", {"inputs": {"m": {"k": None}}}),
    "inputs-columns-map-value-list": Case("map", {"inputs": {"m": {"k": [1]}}}),
    "inputs-columns-map-value-boolean": Case("map", {"inputs": {"m": {"k": True}}}),
    "instances-columns-map-value-text": Case("map", {"instances": {"m": {"k": "x"}}}),
    # an Any column keeps the dtype pandas infers (int64 for integers)
    "any-records": Case("any", {"dataframe_records": [{"z": 1, "x": 1.0}, {"z": 2, "x": 2.0}]}),
    "any-split": Case("any", {"dataframe_split": {"columns": ["z"], "data": [[1], [2]]}}),
    "any-records-text": Case("any", {"dataframe_records": [{"z": "a"}, {"z": "b"}]}),
    "any-records-lists": Case("any", {"dataframe_records": [{"z": [1, 2], "x": 1.0}]}),
    "any-inputs-columns": Case("any", {"inputs": {"z": [1, 2], "x": [1.0, 2.0]}}),
    "any-inputs-rows": Case("any", {"inputs": [{"z": 1}, {"z": True}]}),
    "any-inputs-repeated": Case("any", {"inputs": {"z": [1, 2], "x": 1.0}}),
    # ... and one row when its list holds only text, as MLflow's one-row rule reads it
    "any-inputs-texts-one-row": Case("any", {"inputs": {"z": ["a", "b"], "x": 1.0}}),
    "any-csv": Case("any", "z,x\n1,1.0\n2,2.0\n", "text/csv"),
    # integers past 64 bits keep every digit for a string or any column, whichever JSON parser
    # read the body (orjson makes them floats; the body is then read again)
    "huge-integer-for-string-records": Case(
        "typed", {"dataframe_records": [{"s": 10**20, "t": T0}], **ECHO}
    ),
    "huge-integer-for-string-inputs": Case(
        "typed", {"inputs": {"s": [10**20, -(2**64)], "t": [T0, T0]}, **ECHO}
    ),
    "huge-integer-for-any": Case("any", {"dataframe_records": [{"z": 10**30}, {"z": 2**64}]}),
    # instances rows: each key's values from the rows that have it, stacked into one array
    # (BAD_REQUEST when they do not stack), the required plain columns counted (BAD_REQUEST),
    # then a frame of the arrays, which pandas refuses for uneven keys (INVALID_PARAMETER_VALUE)
    "instances-undeclared-list-and-single": _rf_rows({"e": 1}, {"e": [2]}),
    "instances-undeclared-lists-ragged": _rf_rows({"e": [1]}, {"e": [1, 2]}),
    "instances-undeclared-lists-stack": _rf_rows({"e": [1]}, {"e": [2]}),
    "instances-undeclared-in-one-row": _rf_rows({"e": 1}, {}),
    "instances-plain-list-and-single": _rf_rows({}, {"0": [0.2]}),
    "instances-row-lacks-a-column": Case("rf", {"instances": [RECORD, {"1": 0.5}]}),
    "instances-any-ragged": Case("any", {"instances": [{"z": [1]}, {"z": [1, 2]}]}),
    "instances-row-lacks-an-optional": Case("any", {"instances": [{"z": 1, "x": 1.0}, {"z": 2}]}),
    "instances-no-signature-rows-of-other-keys": Case("nosig", {"instances": [{"a": 1}, {"b": 2}]}),
    "instances-no-signature-ragged": Case("nosig", {"instances": [{"a": [1]}, {"a": [1, 2]}]}),
    "instances-no-signature-unequal": Case("nosig", {"instances": {"a": [1, 2], "b": [1]}}),
    "instances-no-signature-single": Case("nosig", {"instances": {"a": [1, 2], "b": 5}}),
    "instances-tensors-unequal": Case("tensors", {"instances": {"a": [1.0, 2.0], "b": [1.0]}}),
    "instances-tensors-row-lacks-one": Case(
        "tensors", {"instances": [{"a": 1.0, "b": 1.0}, {"a": 2.0}]}
    ),
    "inputs-tensors-unequal": Case("tensors", {"inputs": {"a": [1.0, 2.0], "b": [1.0]}}),
    "inputs-tensors-object": Case("tensors", {"inputs": {"a": [{"k": 1}], "b": [1.0]}}),
    # an object of columns: MLflow makes an undeclared key's value an array, never single
    "inputs-columns-undeclared-null": Case("shapes", {"inputs": {"v": 1.0, "e": None}, **ECHO}),
    "inputs-columns-undeclared-object": Case(
        "shapes", {"inputs": {"v": 1.0, "e": {"k": 1}}, **ECHO}
    ),
    "inputs-columns-undeclared-text": Case("rf", {"inputs": {**RECORD, "id": "abc"}}),
    "inputs-columns-undeclared-list-repeats": Case(
        "shapes", {"inputs": {"v": 1.0, "e": [1, 2]}, **ECHO}
    ),
    "inputs-columns-undeclared-beside-lists": Case(
        "shapes", {"inputs": {"v": [1.0, 2.0], "e": "x"}, **ECHO}
    ),
    "inputs-columns-undeclared-breaks-one-row": Case(
        "any", {"inputs": {"z": ["a", "b"], "e": "q"}}
    ),
    "inputs-columns-undeclared-beside-one-value": Case("any", {"inputs": {"z": "a", "e": "q"}}),
    "instances-columns-undeclared-uncounted": Case(
        "shapes", {"instances": {"v": [1.0, 2.0], "e": [1, 2, 3]}, **ECHO}
    ),
    "instances-columns-optional-uncounted": Case("any", {"instances": {"z": [1, 2], "x": [1.0]}}),
    # an object of columns for an array or object signature: each value cast first
    "inputs-columns-nested-list-for-array": Case(
        "complex", {"inputs": {"a": [[1.5], [2.5]], "o": {"p": 1}, "x": [1.0, 2.0]}}
    ),
    "inputs-columns-text-in-array": Case(
        "complex", {"inputs": {"a": ["x"], "o": {"p": 1}, "x": [1.0, 2.0]}}
    ),
    "inputs-columns-text-for-plain": Case(
        "complex", {"inputs": {"a": [1.5], "o": {"p": 1}, "x": "q"}}
    ),
    "inputs-columns-list-for-plain": Case(
        "complex", {"inputs": {"a": [1.5], "o": {"p": 1}, "x": [1.0, 2.0]}}
    ),
    # lists for several columns: cast whole as the first column's type
    "inputs-flat-for-array-first-casts": Case("complex", {"inputs": [1.5, 2.5]}),
    "inputs-flat-null-for-array-first": Case("complex", {"inputs": [None]}),
    "inputs-flat-for-the-one-array": Case("array", {"inputs": [1.5, 2.5]}),
    "inputs-rows-text": Case("rf", {"inputs": [["x", 1, 2, 3]]}),
    "instances-rows-text": Case("rf", {"instances": [["x", 1, 2, 3]]}),
    "inputs-rows-object": Case("rf", {"inputs": [[{"a": 1}, 1, 2, 3]]}),
    "inputs-rows-list": Case("rf", {"inputs": [[[1], 1, 2, 3]]}),
    "inputs-rows-text-in-a-later-row": Case("rf", {"inputs": [["0.5", 1, 2, 3], ["x", 1, 2, 3]]}),
    "inputs-rows-integer-names": Case("ints", {"inputs": [[1, 0.5]], "params": {}}),
    "inputs-rows-text-for-a-later-text-column": Case(
        "mixed-ints", {"inputs": [[1, "x", 9], [2, "y", 9]]}
    ),
    "inputs-rows-floats-for-a-text-column": Case("mixed-ints", {"inputs": [[1, 2]]}),
    # an int tensor reads integers written as text, as np.array(data, int64)
    "int-tensor-text": Case("int-tensor", {"inputs": [["5", 1]]}),
    "int-tensor-text-spaced": Case("int-tensor", {"inputs": [[" 5", "1_000"]]}),
    "int-tensor-text-instances": Case("int-tensor", {"instances": [["-7", 1]]}),
    "int-tensor-fraction-text": Case("int-tensor", {"inputs": [["1.5", 1]]}),
    "int-tensor-exponent-text": Case("int-tensor", {"inputs": [["1e3", 1]]}),
    "int-tensor-object": Case("int-tensor", {"inputs": [[{"k": 1}, 1]]}),
    # instances rows of other keys: paired by position when every key has as many values
    "instances-rows-without-the-array-column": Case(
        "complex", {"instances": [{"o": {"p": 1}, "x": 1.0}]}
    ),
    "instances-rows-of-other-keys-paired": Case(
        "typed", {"instances": [{"s": "a"}, {"t": T0}], **ECHO}
    ),
    "instances-rows-an-empty-row": Case("typed", {"instances": [{"s": "a", "t": T0}, {}], **ECHO}),
    "instances-rows-of-other-keys-text-for-datetime": Case(
        "typed", {"instances": [{"s": "a"}, {"t": "x"}], **ECHO}
    ),
    # lists numpy cannot stack: an undeclared key's, or a string column's
    "inputs-columns-undeclared-ragged": Case(
        "shapes", {"inputs": {"v": [1.0, 2.0], "e": [[1], [2, 3]]}, **ECHO}
    ),
    "inputs-columns-undeclared-mixed": Case(
        "shapes", {"inputs": {"v": [1.0, 2.0], "e": [1, [2]]}, **ECHO}
    ),
    "inputs-columns-text-lists-ragged": Case(
        "typed", {"inputs": {"s": [["x"], ["y", "z"]], "t": [T0, T0]}, **ECHO}
    ),
    # ... and lists of text for a string column pass, as any object does
    "inputs-columns-text-lists": Case(
        "typed", {"inputs": {"s": [["a"], ["b"]], "t": [T0, T0]}, **ECHO}
    ),
    "inputs-rows-text-list": Case("typed", {"inputs": [{"s": ["a"], "t": T0}], **ECHO}),
    "instances-rows-text-list": Case("typed", {"instances": [{"s": ["a"], "t": T0}], **ECHO}),
    # no values for a string column: numpy's empty text array, a str column
    "inputs-columns-no-text": Case("prompt", {"inputs": {"prompt": []}}),
    # ragged rows when the first column is Any: no cast, pandas pads them
    "inputs-rows-ragged-any-first": Case("any", {"inputs": [[1, 2], [3]]}),
    # an int tensor casts whole floats, and fails on floats past its range
    "int-tensor-whole-floats": Case("int-tensor", {"inputs": [[1.0, 2.0]]}),
    "int-tensor-whole-floats-instances": Case("int-tensor", {"instances": [[2.0, 3]]}),
    "int-tensor-past-its-range": Case("int-tensor", {"inputs": [[1e20, 2.0]]}),
    # an unwrapped LLM body meets MLflow's enforcement with the dtypes pandas infers
    "llm-numbers-for-text": Case("prompt", {"prompt": [1, 2]}),
    "llm-number-for-text": Case("prompt", {"prompt": 5}),
    "llm-booleans-for-text": Case("prompt", {"prompt": [True]}),
    "llm-number-or-null-for-text": Case("prompt", {"prompt": [1, None]}),
    "llm-mixed-for-text": Case("prompt", {"prompt": [True, 1]}),
    "llm-null-for-text": Case("prompt", {"prompt": [None]}),
    "llm-lists-of-text": Case("prompt", {"prompt": [["a"], ["b"]]}),
    "llm-lists-of-numbers": Case("prompt", {"prompt": [[1], [2]]}),
    "instances-no-signature-objects": Case(
        "nosig", {"instances": [{"a": {"k": 1}, "b": 1}, {"a": {"k": 2}, "b": 2}]}
    ),
    "llm-params-key-beside-lists": Case(
        "prompt", {"prompt": ["a", "b"], "params": {"temperature": 0.5}}
    ),
    # an unwrapped LLM body: single values and lists of text are one row (a batch of prompts)
    "llm-prompts-one-row": Case("prompt", {"prompt": ["a", "b"], "temperature": 0.5}),
    "llm-prompts-one-row-undeclared": Case("prompt", {"prompt": ["a", "b"], "extra": "q"}),
    "llm-prompt-repeated-by-undeclared": Case("prompt", {"prompt": "a", "extra": [1, 2]}),
    "llm-prompts-mixed-rows": Case("prompt", {"prompt": ["a", 1]}),
}

# Deliberate differences, with the reason: the table in docs/payloads.md.
DIFFERENT = {
    "any-object-in-columns": (
        Case("any", {"inputs": {"z": {"k": 1.5}}}),
        "refused (INVALID_PARAMETER_VALUE); MLflow's pd.DataFrame(dict) makes the object's keys "
        "row labels, and the model gets its values with the keys dropped",
    ),
    "map-empty-in-columns": (
        Case("map", {"inputs": {"m": {}}}),
        "refused (INVALID_PARAMETER_VALUE); MLflow's pd.DataFrame(dict) makes an empty map no "
        "rows at all",
    ),
    "instances-any-mixed": (
        Case("any", {"instances": [{"z": 1}, {"z": "a"}]}),
        "an Any column keeps the values as sent; MLflow's np.array of the key's values makes "
        "1 the text '1'",
    ),
    "int-tensor-fraction": (
        Case("int-tensor", {"inputs": [[1.5, 1]]}),
        "refused (INVALID_PARAMETER_VALUE); MLflow's np.array(data, int64) truncates 1.5 to 1",
    ),
    "llm-object-as-rows": (
        Case("prompt", {"prompt": {"k": "a", "j": "b"}}),
        "refused (INVALID_PARAMETER_VALUE); MLflow's pd.DataFrame(body) makes the object's keys "
        "the rows and its values the prompts",
    ),
    "llm-undeclared-object-as-rows": (
        Case("prompt", {"prompt": "a", "extra": {"k": 1, "j": 2}}),
        "refused (INVALID_PARAMETER_VALUE); MLflow's pd.DataFrame(body) makes the ignored key's "
        "object keys the rows, so the model gets the prompt once per key",
    ),
}


@pytest.mark.parametrize("case", [pytest.param(c, id=name) for name, c in SAME.items()])
def test_same_answer_as_mlflow(wire_servers: dict[str, tuple[str, str]], case: Case) -> None:
    assert_same(wire_servers, case)


@pytest.mark.parametrize(
    "case", [pytest.param(case, id=name) for name, (case, _) in DIFFERENT.items()]
)
def test_documented_differences_still_differ(
    wire_servers: dict[str, tuple[str, str]], case: Case
) -> None:
    assert_differs(wire_servers, case)
