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


def test_cors_origins_are_comma_separated(monkeypatch: pytest.MonkeyPatch, fresh: None) -> None:
    monkeypatch.delenv("RAPOR_CORS_ORIGINS", raising=False)
    assert get_settings().cors_origins == ()
    get_settings.cache_clear()
    monkeypatch.setenv("RAPOR_CORS_ORIGINS", "https://a.example, https://b.example")
    assert get_settings().cors_origins == ("https://a.example", "https://b.example")
