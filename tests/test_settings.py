"""The one settings object: read from RAPOR_* variables, wrong values explained."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from indexer.settings import Settings, get_settings


@pytest.fixture()
def fresh() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch, fresh: None) -> None:
    monkeypatch.setenv("RAPOR_DENSE_WEIGHT", "0.7")
    monkeypatch.setenv("RAPOR_FUSION", "rrf")
    settings = get_settings()
    assert (settings.dense_weight, settings.fusion) == (0.7, "rrf")
    assert Settings().port == 8000


@pytest.mark.parametrize(
    ("name", "value"), [("RAPOR_PORT", "abc"), ("RAPOR_DENSE_WEIGHT", "-1"), ("RAPOR_FUSION", "max")]
)
def test_bad_values_stop_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch, fresh: None, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit, match=f"invalid setting: {name}"):
        get_settings()
