from __future__ import annotations

from pathlib import Path

import pytest

from summarizer.errors import InputError
from summarizer.ingest.load import decode_bytes, read_document

TEXT = "嘉兴市先进制造业集群培育工程推进方案"


@pytest.mark.parametrize("data,enc", [
    (TEXT.encode("utf-8"), "utf-8"),
    (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
    (TEXT.encode("gbk"), "gb18030"),
    (TEXT.encode("utf-16"), "utf-16"),
])
def test_encodings_are_detected(data: bytes, enc: str) -> None:
    assert decode_bytes(data) == (TEXT, enc)


@pytest.mark.parametrize("data,problem", [
    (b"", "empty file"),
    (b"  \n ", "empty file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (bytes(range(128, 256)) * 4, "undecodable"),
])
def test_bad_bytes_get_a_clear_error(data: bytes, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        decode_bytes(data, "x.txt")


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        read_document(tmp_path / "nope.txt")
    assert str(err.value) == f"{tmp_path / 'nope.txt'}: no such file"


def test_a_text_file_is_read_once_and_hashed_from_the_bytes_it_decodes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    from summarizer.ingest import limits

    reads: list[Path] = []
    real = limits.read_bounded

    def counting(path: Path, html: bool = False) -> bytes:
        reads.append(path)
        return real(path, html)

    monkeypatch.setattr(limits, "read_bounded", counting)
    for name, data, enc in (("a.txt", TEXT.encode("gbk"), "gb18030"), ("b.txt", TEXT.encode("utf-16"), "utf-16")):
        path = tmp_path / name
        path.write_bytes(data)
        doc = read_document(path)
        assert (doc.text, doc.encoding, doc.sha256) == (TEXT, enc, hashlib.sha256(data).hexdigest())
    assert reads == [tmp_path / "a.txt", tmp_path / "b.txt"]
    (tmp_path / "page.html").write_text(f"<html><body><p>{TEXT}</p></body></html>", "utf-8")
    assert TEXT in read_document(tmp_path / "page.html").text  # other readers read the file themselves
    with pytest.raises(InputError, match="empty file"):
        (tmp_path / "empty.txt").write_bytes(b" \n")
        read_document(tmp_path / "empty.txt")
