"""Legal references in search and in the /legal API, on the real report."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from indexer.search import SearchEngine
from indexer.settings import Settings
from service.app import create_app


@pytest.fixture(scope="module")
def client(report_settings: Settings, report_engine: SearchEngine) -> Iterator[TestClient]:
    with TestClient(create_app(report_settings, report_engine)) as c:
        yield c


@pytest.mark.parametrize(
    "query",
    ["5216 sayılı kanun 7/a", "5216 s.K.m.7/a", "5216/7/a", "buyuksehir belediyesi kanunu 7. madde a bendi"],
)
def test_any_written_form_finds_the_citing_passages_first(report_engine: SearchEngine, query: str) -> None:
    hits = report_engine.search(query, k=5).hits
    assert hits[0].cites, [h.passage.text[:60] for h in hits]
    assert "7/a" in hits[0].passage.text


def test_citing_passages_are_not_drowned_by_the_dense_arm(report_engine: SearchEngine) -> None:
    hits = report_engine.search("5393 sayılı Kanun 18/f", k=10).hits
    citing = [bool(h.cites) for h in hits]
    # Every citing passage comes before every other one.
    assert citing == sorted(citing, reverse=True) and citing[0]
    assert all(h.score > 1.0 for h in hits if h.cites)


def test_a_query_without_a_reference_is_ranked_as_before(report_engine: SearchEngine) -> None:
    assert all(h.cites is None and h.score <= 1.0 for h in report_engine.search("kreş", k=5).hits)


def test_legal_lookup_returns_citing_passages_with_pages(client: TestClient) -> None:
    body = client.get("/legal", params={"ref": "5216 s.K.m.7/a"}).json()
    assert (body["ref"], body["law"], body["name"]) == ("5216/7/a", "5216", "Büyükşehir Belediyesi Kanunu")
    found = body["duties"] + body["passages"]
    assert body["total"] == len(found) > 0
    assert all(p["page_start"] and p["section"] for p in found)
    assert any("7/a" in p["text"] for p in found)
    whole = client.get("/legal", params={"ref": "Belediye Kanunu 18. madde"}).json()
    assert whole["ref"] == "5393/18" and whole["total"] >= 1


def test_legal_lookup_cites_a_passage_at_its_citing_line(client: TestClient) -> None:
    # The list of 5216 m.7's clauses runs from page 4 onto page 5, where 7/h stands.
    body = client.get("/legal", params={"ref": "5216/7/h"}).json()
    listing = [p for p in body["passages"] if "5216 s.K.m.7/c" in p["text"] and "5216 s.K.m.7/h" in p["text"]]
    assert [p["page_estimate"] for p in listing] == ["5"]
    earlier = client.get("/legal", params={"ref": "5216/7/c"}).json()
    assert [p["page_estimate"] for p in earlier["passages"] if p["id"] == listing[0]["id"]] == ["4"]


def test_unparseable_reference_is_a_422_in_the_one_error_shape(client: TestClient) -> None:
    response = client.get("/legal", params={"ref": "kreşler nerede"})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "ref"
    assert "5216/7/a" in response.json()["error"]["message"]


def test_laws_lists_the_cited_laws_most_cited_first(client: TestClient) -> None:
    laws = client.get("/legal/laws").json()["laws"]
    top = {law["law"]: law for law in laws[:2]}
    assert set(top) == {"5393", "5216"}
    assert top["5393"]["name"] == "Belediye Kanunu" and top["5393"]["articles"] > 10
    counts = [law["passages"] for law in laws]
    assert counts == sorted(counts, reverse=True)


def test_legal_endpoints_are_in_the_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/legal", "/legal/laws"} <= set(paths)
    assert "422" in paths["/legal"]["get"]["responses"]


def test_a_duty_question_finds_the_duty_with_its_basis(report_engine: SearchEngine) -> None:
    hits = report_engine.search("toplu taşıma ruhsatını kim verir, dayanağı ne?", k=3).hits
    duty = next(h.passage for h in hits if h.passage.kind == "duty")
    assert "toplu taşıma" in duty.text and "Dayanak: 5216 s.K.m.7/" in duty.text
    assert "1.2. Yetki" in duty.section


def test_legal_lookup_lists_the_duty_a_clause_assigns(client: TestClient) -> None:
    body = client.get("/legal", params={"ref": "5393 sayılı Kanun 18/f"}).json()
    assert [d["kind"] for d in body["duties"]] == ["duty"] * len(body["duties"]) != []
    assert any("ücret tarifesini" in d["text"] for d in body["duties"])


@pytest.mark.parametrize("ref", ["5393 sayılı Kanun 34/c", "5393 s.K.m.34/1-c", "5393 sk 34 c"])
def test_a_clause_is_found_with_or_without_its_paragraph_number(client: TestClient, ref: str) -> None:
    # The report writes Article 34's clauses with the paragraph ("34/1-c"); users often do not.
    body = client.get("/legal", params={"ref": ref}).json()
    assert any("Öngörmeyen giderler" in d["text"] for d in body["duties"]), body["ref"]


def test_a_clause_question_without_the_paragraph_finds_the_duty_first(report_engine: SearchEngine) -> None:
    top = report_engine.search("5393 sk 34 c encümene hangi görevi verir?", k=3).hits[0]
    assert top.cites and top.passage.kind == "duty" and "5393 s.K.m.34/1-c" in top.passage.text
