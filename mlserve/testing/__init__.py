"""Conformance checks for flavor authors: the checks mlserve's own flavors pass.

Call :func:`check_flavor` from your plugin's test suite (with pytest's ``tmp_path``)::

    from mlserve.testing import check_flavor

    def test_my_flavor_conforms(tmp_path):
        check_flavor(my_flavor, fitted_model, input_example, tmp_path)

It runs the checks in order (the guide's table lists them); each one can also be called alone.
A failed check raises ``AssertionError`` with a message saying what was expected and what was
found, so it reads well in a pytest report.

:func:`parametrize_with_checks` makes each check its own pytest test, and
:func:`parametrize_entry_point_checks` does so for a distribution's entry points.
:func:`check_refuses_untrusted_pickle` is for flavors whose format is a pickle, and
:func:`write_mlflow_mlmodel` lays out an ``MLmodel`` as MLflow writes it.
:func:`serve_model` runs a saved model in a real ``python -m mlserve.server`` process for the
length of a ``with`` block, and :func:`check_served` checks the server answers what the native
model predicts. The guide is ``docs/writing-a-flavor.md``.
"""

from __future__ import annotations

# the checks live in private modules by what they hold; this is the one public surface
from mlserve.testing._checks import CHECKS, FlavorCase, parametrize_with_checks
from mlserve.testing._claims import check_can_save, check_saved_by_default
from mlserve.testing._compare import assert_predictions_equal
from mlserve.testing._flavor_checks import (
    check_batchable,
    check_flavor,
    check_mlmodel,
    check_predictions,
    check_protocol,
    check_requirements,
    check_save_load,
    check_signature_enforced,
)
from mlserve.testing._fresh_process import check_fresh_process
from mlserve.testing._mlflow_written import check_mlflow_sections, write_mlflow_mlmodel
from mlserve.testing._registry import (
    check_entry_point,
    check_reported_broken_without,
    parametrize_entry_point_checks,
)
from mlserve.testing._serving import ServedModel, check_served, payload_for, serve_model
from mlserve.testing._untrusted import check_refuses_untrusted_pickle

__all__ = [
    "CHECKS",
    "FlavorCase",
    "ServedModel",
    "assert_predictions_equal",
    "check_batchable",
    "check_can_save",
    "check_entry_point",
    "check_flavor",
    "check_fresh_process",
    "check_mlflow_sections",
    "check_mlmodel",
    "check_predictions",
    "check_protocol",
    "check_refuses_untrusted_pickle",
    "check_reported_broken_without",
    "check_requirements",
    "check_save_load",
    "check_saved_by_default",
    "check_served",
    "check_signature_enforced",
    "parametrize_entry_point_checks",
    "parametrize_with_checks",
    "payload_for",
    "serve_model",
    "write_mlflow_mlmodel",
]
