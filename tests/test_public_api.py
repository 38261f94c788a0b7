"""The public surface: ``__all__`` is complete and sorted, and ``import mlserve`` stays light."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import mlserve


def test_all_is_sorted_and_unique() -> None:
    assert mlserve.__all__ == sorted(set(mlserve.__all__))


@pytest.mark.parametrize("name", mlserve.__all__)
def test_every_public_name_resolves_and_is_documented(name: str) -> None:
    value = getattr(mlserve, name)
    if name != "__version__":
        assert (value.__doc__ or "").strip(), f"mlserve.{name} has no docstring"


def test_version_comes_from_the_installed_distribution() -> None:
    from importlib.metadata import version

    assert mlserve.__version__ == version("mlserve-core")


@pytest.mark.parametrize(
    "module", ["werkzeug", "gunicorn", "sklearn", "mlserve.server", "mlserve.flavors._sklearn"]
)
def test_import_mlserve_pulls_in_no_server_and_no_framework(module: str) -> None:
    code = (
        "import sys, mlserve; "
        "mlserve.load_model; mlserve.save_model; mlserve.log_model; mlserve.ModelSignature; "
        f"print({module!r} in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        mlserve.no_such_name  # noqa: B018


def test_all_lists_exactly_the_lazy_exports() -> None:
    assert set(mlserve.__all__) == set(mlserve._exports()) | {"__version__"}


def test_the_lazy_table_is_read_from_the_type_checking_imports() -> None:
    # the one list: every name comes from an explicit re-export (`from m import X as X`) in
    # mlserve/__init__.py, so type checkers see the same surface, and a typo there fails here
    exports = mlserve._exports()
    assert exports["load_model"] == "mlserve._api._models"
    assert exports["MlserveError"] == "mlserve.errors"
    for name, module in exports.items():
        assert getattr(importlib.import_module(module), name) is getattr(mlserve, name)


def test_import_mlserve_reads_the_table_only_on_first_access() -> None:
    code = "import sys, mlserve; print('ast' in sys.modules); mlserve.MlserveError; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "ok"]


def test_the_table_is_the_type_checking_block_of_the_source() -> None:
    # _exports() reads the compiled module; the names are the ones written in its source
    import ast
    from pathlib import Path

    tree = ast.parse(Path(mlserve.__file__).read_text())
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    )
    written = {
        alias.name: str(node.module)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert mlserve._exports() == written and len(written) > 50


def test_an_install_with_only_bytecode_has_the_same_surface(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import compileall
    import json
    import shutil
    from pathlib import Path

    package = tmp_path / "mlserve"
    shutil.copytree(
        Path(mlserve.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__")
    )
    assert compileall.compile_dir(package, legacy=True, quiet=1)  # .pyc beside each .py
    for source in package.rglob("*.py"):
        source.unlink()
    # -S: no site-packages, so neither the editable install nor any other copy is found
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import json, mlserve; "
        "assert mlserve.__file__.endswith('.pyc'); "
        "print(json.dumps([sorted(mlserve._exports()), mlserve.MlserveError.__module__]))"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    names, module = json.loads(out.stdout)
    assert names == sorted(mlserve._exports()) and module == "mlserve.errors"


# Modules that are API by their path, besides every package's __init__ and __main__: errors
# (the exception tree), models, pyfunc and python_model (MLflow's names; pickles of a PythonModel
# refer to mlserve.python_model by path), and the pytest plugin plugins name in pytest_plugins.
PUBLIC_MODULES = {
    "mlserve.errors",
    "mlserve.models",
    "mlserve.pyfunc",
    "mlserve.python_model",
    "mlserve.testing.fixtures",
}


def _module_names() -> list[str]:
    from pathlib import Path

    root = Path(mlserve.__file__).parent
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = ("mlserve", *path.relative_to(root).with_suffix("").parts)
        names.append(".".join(parts))
    return names


def test_a_module_that_is_not_api_starts_with_an_underscore() -> None:
    # STYLE habit 13: a reader sees from the path alone what is API; a new module is private
    # unless it is added to PUBLIC_MODULES on purpose
    public = [
        name
        for name in _module_names()
        if not any(part.startswith("_") for part in name.split(".")[1:])
        or name.endswith((".__init__", ".__main__"))
    ]
    stray = [
        name
        for name in public
        if not name.endswith((".__init__", ".__main__")) and name not in PUBLIC_MODULES
    ]
    assert not stray, f"name these with a leading underscore or add them to PUBLIC_MODULES: {stray}"
    assert all(name in _module_names() for name in PUBLIC_MODULES)


# dotted references to private modules that the docs may show: entry-point targets (what
# `mlserve flavors` prints) and the worker class gunicorn names in its start-up log
_QUOTED_PRIVATE = {
    "mlserve.flavors._sklearn",
    "mlserve.flavors._python_function",
    "mlserve.server._worker.DeadlineThreadWorker",
}


def test_the_docs_never_send_a_user_to_a_private_module() -> None:
    # a private module may change in any release; the docs show its file path to explain how
    # something works, never a dotted name to import or call
    import re
    from pathlib import Path

    project = Path(mlserve.__file__).parent.parent
    pages = [project / "README.md", *sorted((project / "docs").glob("*.md"))]
    found = []
    for page in pages:
        for match in re.finditer(r"mlserve(?:\.\w+)*\._\w+(?:\.\w+)*", page.read_text()):
            if match.group() not in _QUOTED_PRIVATE:
                found.append(f"{page.name}: {match.group()}")
    assert not found, found
    assert len(pages) > 10


def test_no_install_line_names_the_unrelated_mlserve_distribution() -> None:
    # `mlserve` on the public index is another project: every requirement and pip line names
    # `mlserve-core` (or a path to the clone); a reviewer's plugin built from the docs failed
    import re
    from pathlib import Path

    project = Path(mlserve.__file__).parent.parent
    files = [
        project / "README.md",
        *sorted((project / "docs").glob("*.md")),
        *sorted((project / "plugins").glob("*/README.md")),
        project / "plugins" / "README.md",
        *sorted((project / "plugins").glob("*/pyproject.toml")),
    ]
    # a version specifier after the bare name (`mlserve>=0.1`, `mlserve[server]==0.1`)
    wrong = re.compile(r"""(?:["'\s]|^)mlserve(?:\[[\w,]+\])?\s*[<>=!~]=?\s*\d""")
    found = [
        f"{path.relative_to(project)}:{n}: {line.strip()}"
        for path in files
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if wrong.search(line) or re.search(r"pip install\s+['\"]?mlserve(?:[\[\s'\"]|$)", line)
    ]
    assert not found, found
    assert len(files) > 15
