"""The JSON-file backend of docs/writing-a-backend.md passes the conformance kit."""

from __future__ import annotations

import importlib.util
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from crmcore.storage import Backend, Store
from crmcore.testing import StoreConformance

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _load_example() -> ModuleType:
    path = DOCS / "examples" / "json_file_backend.py"
    spec = importlib.util.spec_from_file_location("json_file_backend", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


example = _load_example()


# --8<-- [start:kit]
class TestJsonFileBackend(StoreConformance):
    """The whole conformance kit, on a fresh JSON file per test."""

    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[Backend]:
        backend = example.JsonFileBackend(tmp_path / "crm.json")
        yield backend
        backend.close()

    def reopen(self, backend: Backend) -> Backend:
        backend.close()
        return example.JsonFileBackend(backend.path)  # type: ignore[attr-defined, no-any-return]


# --8<-- [end:kit]


def test_the_backend_works_through_connect(tmp_path: Path) -> None:
    """The example's factory serves a jsonfile:// URL once registered."""
    from crmcore.models import Customer
    from crmcore.storage import connect, register_backend

    register_backend("jsonfile", example.create_backend)
    store = connect(f"jsonfile://{tmp_path / 'crm.json'}")
    assert isinstance(store, Store)
    with store.unit_of_work() as uow:
        saved = uow.customers.add(Customer.person_named(family="张", given="伟"))
        uow.commit()
    again = connect(f"jsonfile://{tmp_path / 'crm.json'}")
    with again.unit_of_work() as uow:
        assert uow.customers.get(saved.id) == saved


def _snippets(text: str) -> dict[str, str]:
    pattern = re.compile(r"# --8<-- \[start:(\w+)\]\n(.*?)# --8<-- \[end:\1\]", re.S)
    return {name: textwrap.dedent(body).strip() for name, body in pattern.findall(text)}


def test_the_walkthrough_quotes_the_tested_code() -> None:
    """Every code section of the example appears verbatim in docs/writing-a-backend.md."""
    doc = (DOCS / "writing-a-backend.md").read_text(encoding="utf-8")
    sources = {
        **_snippets((DOCS / "examples" / "json_file_backend.py").read_text(encoding="utf-8")),
        **_snippets(Path(__file__).read_text(encoding="utf-8")),
    }
    assert set(sources) == {
        "imports",
        "backend",
        "factory",
        "transaction",
        "reads",
        "writes",
        "commit",
        "kit",
    }
    normalised_doc = "\n".join(line.rstrip() for line in doc.splitlines())
    for name, code in sources.items():
        assert code in normalised_doc, f"docs/writing-a-backend.md does not quote {name!r}"
