"""The docstrings' examples run (doctest), and every registered loss documents its shapes and an example."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import lossapp
import lossapp.losses

# every loss module, the modules that hold a registered spec's steps, the package's own docstring and the modules
# whose docstrings show how they are used
MODULES = sorted({f"lossapp.losses.{m.name}" for m in pkgutil.iter_modules(lossapp.losses.__path__)}
                 | {spec.steps.__module__ for spec in lossapp.LOSSES.values()}
                 | {"lossapp", "lossapp.i18n", "lossapp.inputs.constraints", "lossapp.exceptions", "lossapp.lab"})


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_run(module_name: str) -> None:
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, report=True, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctest examples in {module_name} failed"


@pytest.mark.parametrize("name", sorted(lossapp.LOSSES))
def test_every_loss_documents_its_shapes_and_an_example(name: str) -> None:
    spec = lossapp.LOSSES[name]
    doc = inspect.getdoc(spec.steps) or ""
    assert "Unreduced" in doc, f"{name}: its steps' docstring gives no unreduced formula"
    shape = doc.split("\nShape:\n", 1)
    assert len(shape) == 2, f"{name}: its steps' docstring has no 'Shape:' block"
    lines = [line.strip() for line in shape[1].split("\n\n", 1)[0].splitlines()]
    assert any(line.startswith("- pred") for line in lines), f"{name}: 'Shape:' does not give pred's shape"
    assert any(line.startswith("- output") for line in lines), f"{name}: 'Shape:' does not give the output's shape"
    assert "Example::" in doc, f"{name}: its steps' docstring has no 'Example::'"
    examples = doctest.DocTestParser().get_examples(doc)
    assert any(f'lossapp.compute("{name}"' in example.source for example in examples), \
        f"{name}: the example does not run lossapp.compute({name!r}, ...)"
