"""The HTTP contract, in process, on the fixture corpus with the real model."""

from __future__ import annotations

from typing import Any

import pytest

RESULT_KEYS = {"rank", "score", "id", "text", "section", "page_start", "page_end", "scores"}


def _ok(client: Any, **params: Any) -> dict[str, Any]:
    response = client.get("/search", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _ranked(body: dict[str, Any]) -> list[tuple[str, float]]:
    return [(r["id"], r["score"]) for r in body["results"]]


def test_search_contract(mini_client: Any) -> None:
    body = _ok(mini_client, q="  elektrikli otobüs  ", k=3)
    assert set(body) >= {"query", "mode", "k", "took_ms", "results"}
    assert (body["query"], body["mode"], body["k"]) == ("elektrikli otobüs", "hybrid", 3)
    assert isinstance(body["took_ms"], float) and 1 <= len(body["results"]) <= 3
    top = body["results"][0]
    assert set(top) >= RESULT_KEYS
    assert [r["rank"] for r in body["results"]] == list(range(1, len(body["results"]) + 1))
    assert "40 adet elektrikli otobüs" in top["text"]
    assert top["section"].endswith("Otobüs Filosunun Yenilenmesi Faaliyetleri > Ulaşım Dairesi Başkanlığı")
    assert (top["page_start"], top["page_end"]) == ("6", "8")
    assert isinstance(top["scores"]["bm25"], float) and isinstance(top["scores"]["dense"], float)


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_modes_fill_their_scores(mini_client: Any, mode: str) -> None:
    body = _ok(mini_client, q="kira gelirleri", mode=mode, k=5)
    assert body["mode"] == mode
    for r in body["results"]:
        assert (r["scores"]["bm25"] is None) == (mode == "dense")
        assert (r["scores"]["dense"] is None) == (mode == "bm25")
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_post_equals_get(mini_client: Any) -> None:
    got = _ok(mini_client, q="sahipsiz hayvanlar", k=4, mode="bm25")
    posted = mini_client.post("/search", json={"q": "sahipsiz hayvanlar", "k": 4, "mode": "bm25"})
    assert posted.status_code == 200
    assert _ranked(posted.json()) == _ranked(got)


def test_ascii_typed_query_finds_the_same_passage(mini_client: Any) -> None:
    proper = _ok(mini_client, q="köpek barınağı kapasitesi", k=1, mode="bm25")["results"][0]
    typed = _ok(mini_client, q="kopek barinagi kapasitesi", k=1, mode="bm25")["results"][0]
    assert typed["id"] == proper["id"]


def test_a_figure_finds_only_passages_with_that_figure(mini_client: Any) -> None:
    found = _ok(mini_client, q="4.750.000", mode="bm25")["results"]
    assert found and "Kira gelirleri\t4.000.000,00\t4.750.000,00" in found[0]["text"]
    # Same first five digits: a stemmed number would have matched the table above.
    assert _ok(mini_client, q="4.750.001", mode="bm25")["results"] == []


def test_a_unit_symbol_finds_the_unit_written_out(mini_client: Any) -> None:
    # The report writes "metrekare" here and "m²" elsewhere; a question may use either.
    found = _ok(mini_client, q="kaç m²", mode="bm25")["results"]
    assert found and "12.500 metrekaredir" in found[0]["text"]


def test_ranking_is_deterministic(mini_client: Any) -> None:
    first = _ok(mini_client, q="belediye", k=10, mode="bm25")
    second = _ok(mini_client, q="belediye", k=10, mode="bm25")
    assert [r["id"] for r in first["results"]] == [r["id"] for r in second["results"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 501}, "q"),
        ({"q": "kira", "k": 0}, "k"),
        ({"q": "kira", "k": 51}, "k"),
        ({"q": "kira", "k": "çok"}, "k"),
        ({"q": "kira", "mode": "fuzzy"}, "mode"),
        ({}, "q"),
        ({"q": "\x00\x01"}, "q"),
        ({"q": "\u200b\u200b"}, "q"),
        ({"q": "kira\x00 gelirleri"}, "q"),
        ({"q": "\x1b[31mkira"}, "q"),
    ],
)
def test_bad_input_is_422_with_one_error_shape(mini_client: Any, params: dict[str, Any], field: str) -> None:
    response = mini_client.get("/search", params=params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in error["message"]
    assert any(d["field"] == field for d in error["details"])


@pytest.mark.parametrize(
    "body", [{"q": "kira", "k": 100}, {"k": 3}, {"q": 5}, {"q": "kira", "extra": 1}, [1, 2], "kira"]
)
def test_bad_json_is_422(mini_client: Any, body: Any) -> None:
    response = mini_client.post("/search", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_malformed_json_and_unknown_path(mini_client: Any) -> None:
    response = mini_client.post("/search", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422 and "error" in response.json()
    missing = mini_client.get("/nowhere")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_healthz_and_docs(mini_client: Any) -> None:
    health = mini_client.get("/healthz").json()
    assert health["status"] == "ok" and health["passages"] > 5
    assert health["documents"] == ["mini-2024"] and health["model_id"]
    assert mini_client.get("/docs").status_code == 200
    spec = mini_client.get("/openapi.json").json()
    assert {"/search", "/healthz"} <= set(spec["paths"])


def test_head_and_method_errors(mini_client: Any) -> None:
    assert mini_client.head("/healthz").status_code == 200
    response = mini_client.delete("/search")
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_invisible_format_characters_are_dropped_from_the_query(mini_client: Any) -> None:
    body = _ok(mini_client, q="\ufeffkira gelirleri\u200b", k=1, mode="bm25")
    assert body["query"] == "kira gelirleri"


@pytest.mark.parametrize("q", ["?!.", "…", "ve ile", "hangi ne kadar?", "nedir ki"])
@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_punctuation_or_stop_words_alone_find_nothing(mini_client: Any, q: str, mode: str) -> None:
    assert _ok(mini_client, q=q, mode=mode)["results"] == []


def test_a_query_string_that_is_not_utf8_is_422(mini_client: Any) -> None:
    response = mini_client.get("/search?q=%FF%FEkira")
    assert response.status_code == 422
    assert "UTF-8" in response.json()["error"]["message"]


def test_a_body_over_the_limit_is_413_unread(mini_client: Any) -> None:
    big = {"q": "kira", "padding": "x" * 70_000}
    response = mini_client.post("/search", json=big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"

    def chunks() -> Any:  # no Content-Length: counted as it arrives
        yield b'{"q": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}'

    streamed = mini_client.post("/search", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "too_large"
    assert mini_client.post("/search", json={"q": "kira"}).status_code == 200
