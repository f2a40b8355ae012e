"""The API fuzzed against its own OpenAPI schema with Schemathesis, in process.

Every operation of the schema gets requests generated from it, valid and invalid: the
schema's examples, the boundary cases of every constraint (and methods it does not
document), then 1,000 random cases. They go to the real app on the real engine (fixture
corpus, real e5 model), and every response must be documented: no 5xx, a declared status
code and content type, a body matching its schema, invalid input refused, valid input
accepted. Operations without parameters (`/healthz`, `/legal/laws`) have a single valid
request, so they also get 1,000 requests with arbitrary query strings, which they ignore.

Generation is deterministic (a fixed seed, no example database): CI runs the cases run here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import Phase, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.python.asgi import ASGIClient

from indexer.search import SearchEngine
from indexer.settings import Settings
from service.app import create_app

EXAMPLES = 1000
CONFIG: dict[str, Any] = {
    "seed": 20240811,
    "base-url": "http://testserver",
    "generation": {
        "mode": "all",  # valid and invalid data
        "max-examples": EXAMPLES,
        "deterministic": True,
        "database": "none",
    },
    # Off: literals read from the app's source come in an order that varies by process.
    "analysis": {"constants": {"enabled": False}},
    "operations": [
        {
            # Whether a text is a legal reference is the parser's call, which no pattern
            # can state: a schema-valid `ref` may get the documented 422.
            "include-path": "/legal",
            "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "422"]}},
        }
    ],
}
# The schema the app publishes: it depends on neither the settings nor the index (the
# `client` fixture checks that the app under test publishes the same).
schema = schemathesis.openapi.from_dict(
    create_app(Settings()).openapi(), config=SchemathesisConfig.from_dict(CONFIG)
)
# Requests sent, by test and operation.
sent: Counter[tuple[str, str]] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _stable_constants() -> None:
    """Hypothesis mixes literals of the project's loaded modules into generated data, from
    a pool it refreshes only when ``sys.modules`` changes size; rescanning once every module
    is loaded makes that pool, hence the cases, the same in every run."""
    from hypothesis.internal.conjecture import providers

    if hasattr(providers, "_sys_modules_len") and hasattr(providers, "_get_local_constants"):
        providers._sys_modules_len = None
        providers._get_local_constants()


@pytest.fixture(scope="module")
def client(mini_settings: Settings, mini_engine: SearchEngine) -> Iterator[ASGIClient]:
    app = create_app(mini_settings, mini_engine)
    assert app.openapi() == schema.raw_schema
    with ASGIClient(app) as client:  # type: ignore[arg-type]  # Starlette types scopes as MutableMapping
        yield client


@schema.parametrize()
def test_every_operation_keeps_its_schema(case: Any, client: ASGIClient) -> None:
    sent["schema", case.operation.label] += 1
    case.call_and_validate(session=client)


def _has_input(ctx: Any) -> bool:
    definition = ctx.operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody"))


# (`exclude`: an `include` would add to the config's `operations` selection, not narrow it.)
without_input = schema.exclude(func=_has_input)
QUERY_STRINGS = st.dictionaries(st.text(max_size=20), st.text(max_size=200), max_size=5)


@without_input.given(query=QUERY_STRINGS)
@without_input.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, database=None, phases=[Phase.generate])
def test_operations_without_parameters_ignore_any_query(
    case: Any, query: dict[str, str], client: ASGIClient
) -> None:
    sent["query", case.operation.label] += 1
    case.call_and_validate(session=client, params=query)


_QUERY_TEST = test_operations_without_parameters_ignore_any_query.__name__


def _labels(operations: Any) -> list[str]:
    return [result.ok().label for result in operations.get_all_operations() if isinstance(result, Ok)]


def test_each_operation_got_its_cases(request: pytest.FixtureRequest) -> None:
    selected = Counter(
        getattr(item, "originalname", item.name)
        for item in request.session.items
        if item.path == request.path
    )
    runs = {"schema": schema, "query": without_input}
    names = {"schema": "test_every_operation_keeps_its_schema", "query": _QUERY_TEST}
    if any(selected[names[kind]] < len(_labels(ops)) for kind, ops in runs.items()):
        pytest.skip("counts only when every fuzzing test of this file runs")
    expected = {(kind, op) for kind, ops in runs.items() for op in _labels(ops)}
    assert set(sent) == expected, expected - set(sent)  # an operation that got no case fails
    per_operation = {op: sum(n for (_, label), n in sent.items() if label == op) for op in _labels(schema)}
    assert min(per_operation.values()) >= EXAMPLES, per_operation
