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
