"""Hostile input shapes: zip bombs, /dev/zero, FIFOs, deep HTML, oversized files, odd folders.

Each is refused (or read) with one line naming the file, the batch goes on, and the
memory cases run in a child process whose peak RSS must stay under a stated bound
(a memory bound, not a timing: the failures it guards against reach gigabytes).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from summarizer.backends import get_backend
from summarizer.errors import InputError
from summarizer.ingest import formats, limits, load
from summarizer.pipeline import run_batch

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
POLICY = (
    "某市人民政府关于印发数字经济发展实施方案的通知\n"
    "一、重点任务\n"
    "（一）加快数字产业化。培育软件和信息服务业，到2025年产值达到500亿元。（责任单位：市经信局）\n"
    "（二）推进产业数字化。建设10个智能工厂。（市科技局牵头，市财政局配合）\n"
)
# Interpreter + imports take ~90 MB; the failures this guards against took 3-6 GB.
MEMORY_BOUND_MB = 250


def _docx_bytes(paragraphs: list[str]) -> bytes:
    import docx

    doc = docx.Document()
    for p in paragraphs:
        doc.add_paragraph(p)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def write_zip_bomb(path: Path, megabytes: int) -> None:
    """A real .docx whose document.xml inflates to `megabytes` of text (streamed in 1 MB chunks).

    document.xml is the first member, so its local header sits at offset 0.
    """
    src = zipfile.ZipFile(io.BytesIO(_docx_bytes(["x"])))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        with out.open("word/document.xml", "w") as f:
            f.write(b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                    b"<w:body><w:p><w:r><w:t>")
            chunk = b"a" * 2**20
            for _ in range(megabytes):
                f.write(chunk)
            f.write(b"</w:t></w:r></w:p></w:body></w:document>")
        for info in src.infolist():
            if info.filename != "word/document.xml":
                out.writestr(info, src.read(info))


def write_lying_zip(path: Path, megabytes: int) -> None:
    """A zip bomb whose document.xml headers declare 1,000 bytes: only inflating tells."""
    import struct

    write_zip_bomb(path, megabytes)
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, 22, 1000)  # local header: uncompressed size
    cd = data.find(b"PK\x01\x02")  # the first central-directory entry is document.xml
    struct.pack_into("<I", data, cd + 24, 1000)
    path.write_bytes(bytes(data))


_CHILD = r"""
import json, sys
from pathlib import Path
from summarizer.backends import get_backend
from summarizer.pipeline import run_batch
s = run_batch([Path(p) for p in sys.argv[2:]], sys.argv[1], get_backend("rules"))
# VmHWM, not ru_maxrss: after a vfork+exec Linux carries the parent's peak into ru_maxrss.
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"outcomes": [[o.status, o.message] for o in s.outcomes], "peak_mb": peak / 1024}))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status") or not hasattr(os, "mkfifo"), reason="Linux only")
def test_zip_bombs_dev_zero_and_fifo_are_refused_within_a_memory_bound(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.docx"
    write_zip_bomb(bomb, 220)  # 220 MB of text in a 1 MB file; the default limit is 200 MB
    liar = tmp_path / "liar.docx"
    write_lying_zip(liar, 200)  # inflated in one piece, this alone would pass the bound
    zero = tmp_path / "zero.txt"
    zero.symlink_to("/dev/zero")
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    good = tmp_path / "good.txt"
    good.write_text(POLICY, "utf-8")
    assert bomb.stat().st_size < 2 * 2**20
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(tmp_path / "r.db"), str(bomb), str(liar), str(zero),
                           str(fifo), str(good)], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    (s1, m1), (s2, m2), (s3, m3), (s4, m4), (s5, _) = out["outcomes"]
    assert s1 == "failed" and m1 == f"{bomb}: unpacks to more than 200 MB (a zip bomb?; " \
                                    "set SUMMARIZER_MAX_UNZIPPED_MB to change the limit)"
    assert s2 == "failed" and m2.startswith(f"{liar}: corrupt .docx (BadZipFile: Bad CRC-32")
    assert s3 == "failed" and m3 == f"{zero}: not a regular file (a character device); only document files are read"
    assert s4 == "failed" and m4 == f"{fifo}: not a regular file (a named pipe (FIFO)); only document files are read"
    assert s5 == "ok"
    assert out["peak_mb"] < MEMORY_BOUND_MB, out
    print(f"\n[memory] zip bomb, lying zip, /dev/zero, FIFO, one good file: peak RSS {out['peak_mb']:.0f} MB")


def test_file_size_limits_are_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = tmp_path / "plan.txt"
    doc.write_text(POLICY * 20, "utf-8")
    monkeypatch.setenv("SUMMARIZER_MAX_FILE_MB", "0.001")
    with pytest.raises(InputError) as err:
        load.read_document(doc)
    assert str(err.value) == (f"{doc}: file too large (0.0 MB; the limit is 0.0 MB, set SUMMARIZER_MAX_FILE_MB "
                              "to change it)")
    monkeypatch.delenv("SUMMARIZER_MAX_FILE_MB")
    monkeypatch.setenv("SUMMARIZER_MAX_TEXT_CHARS", "100")
    with pytest.raises(InputError, match=r"too much text \([0-9,]+ characters; the limit is 100"):
        load.read_document(doc)
    monkeypatch.delenv("SUMMARIZER_MAX_TEXT_CHARS")
    assert load.read_document(doc).text.startswith("某市")


def test_html_has_its_own_smaller_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p>" + "到2025年产值达到500亿元。" * 100 + "</p>", "utf-8")
    monkeypatch.setenv("SUMMARIZER_MAX_HTML_MB", "0.001")
    with pytest.raises(InputError, match="set SUMMARIZER_MAX_HTML_MB"):
        load.read_document(page)


def test_defaults_admit_a_500_page_pdf(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    page = PdfReader(DATA / "policy_zh.pdf").pages[0]
    writer = PdfWriter()
    for _ in range(500):
        writer.add_page(page)
    big = tmp_path / "plan500.pdf"
    with big.open("wb") as f:
        writer.write(f)
    raw = load.read_document(big)
    assert raw.text.count("加快数字产业化") == 500
    lim = limits.Limits()
    # 500 dense pages are about 1.5 million characters and a few tens of MB of PDF
    assert lim.max_text_chars >= 3 * 500 * 3000 and lim.max_file_bytes >= 100 * 2**20


def test_html_nested_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    depth = 5 * sys.getrecursionlimit()
    page = tmp_path / "deep.html"
    page.write_text("<html><body>" + "<div>" * depth + "到2025年产值达到500亿元。" + "</div>" * depth
                    + "<p>二、保障措施</p></body></html>", "utf-8")
    raw = load.read_document(page)
    assert raw.text == "到2025年产值达到500亿元。\n二、保障措施"


def test_html_walk_keeps_blocks_tables_and_pre() -> None:
    html = ("<body><div>一、总体要求<span>（一）<b>加快</b></span></div><pre>a  b\n c</pre>"
            "<table><tr><td>1.推进</td><td>市经信局</td></tr></table><p>end</p></body>")
    assert formats.html_to_text(html) == "一、总体要求（一）加快\na  b\nc\n| 1.推进 | 市经信局 |\nend"


def _macro_docx(data: bytes) -> bytes:
    """The same package with Word's macro-enabled main content type (what a .docm saved as .docx has)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "[Content_Types].xml":
                body = body.replace(b"wordprocessingml.document.main+xml",
                                    b"wordprocessingml.document.main+xml-unused").replace(
                    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml-unused",
                    b"application/vnd.ms-word.document.macroEnabled.main+xml")
                assert b"macroEnabled" in body
            out.writestr(info, body)
    return buf.getvalue()


@pytest.mark.parametrize("name", ["macro.docx", "macro.docm"])
def test_macro_enabled_word_file_is_read_as_docx(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(_macro_docx(_docx_bytes(["关于印发实施方案的通知", "一、总体要求"])))
    raw = load.read_document(path)
    assert raw.text == "关于印发实施方案的通知\n一、总体要求" and raw.encoding == "docx"


def _encrypted_pdf(path: Path, user_password: str) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(DATA / "policy_zh.pdf"))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-256")
    with path.open("wb") as f:
        writer.write(f)


def test_aes_encrypted_pdf_without_user_password_is_read(tmp_path: Path) -> None:
    path = tmp_path / "aes.pdf"
    _encrypted_pdf(path, "")
    assert "加快数字产业化" in load.read_document(path).text


def test_aes_pdf_with_a_password_or_without_cryptography(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked.pdf"
    _encrypted_pdf(locked, "secret")
    with pytest.raises(InputError) as err:
        load.read_document(locked)
    assert str(err.value) == f"{locked}: encrypted PDF (needs a password)"

    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    def no_crypto(self: object, password: str) -> None:
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(PdfReader, "decrypt", no_crypto)
    open_pdf = tmp_path / "aes.pdf"
    _encrypted_pdf(open_pdf, "")
    with pytest.raises(InputError, match=r"AES-encrypted PDF and the cryptography package is missing"):
        load.read_document(open_pdf)


def test_unreadable_subfolder_is_reported_not_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    top = tmp_path / "docs"
    (top / "locked").mkdir(parents=True)
    (top / "locked" / "hidden.txt").write_text(POLICY, "utf-8")
    (top / "plan.txt").write_text(POLICY, "utf-8")
    locked = top / "locked"
    if os.geteuid() == 0:  # root reads any folder: make this one fail to list
        real_scandir = os.scandir

        def scandir(path: object = ".") -> object:
            if Path(os.fsdecode(path)) == locked:  # type: ignore[arg-type]
                raise PermissionError(13, "Permission denied", str(path))
            return real_scandir(path)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "scandir", scandir)
    else:
        locked.chmod(0)
    try:
        summary = run_batch([top], tmp_path / "r.db", get_backend("rules"))
    finally:
        locked.chmod(0o755)
    by_path = {o.path: o for o in summary.outcomes}
    assert by_path[str(top / "plan.txt")].status == "ok"
    bad = by_path[str(locked)]
    assert bad.status == "failed"
    assert bad.message == f"{locked}: cannot read folder (Permission denied); the documents in it were not run"


def test_same_file_twice_runs_once(tmp_path: Path) -> None:
    doc = tmp_path / "plan.txt"
    doc.write_text(POLICY, "utf-8")
    link = tmp_path / "again.txt"
    link.symlink_to(doc)
    docs, _ = load.find_documents([doc, doc, tmp_path, Path(str(doc))])
    assert docs == [doc]
    summary = run_batch([doc, doc], tmp_path / "r.db", get_backend("rules"))
    assert [o.status for o in summary.outcomes] == ["ok"]


def test_fifo_inside_a_folder_is_named_not_read(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("POSIX only")
    os.mkfifo(tmp_path / "pipe.txt")
    os.mkfifo(tmp_path / "pipe.bin")  # not a document type: ignored like any other
    (tmp_path / "plan.txt").write_text(POLICY, "utf-8")
    summary = run_batch([tmp_path], tmp_path / "r.db", get_backend("rules"))
    assert [(Path(o.path).name, o.status) for o in summary.outcomes] == [("pipe.txt", "failed"), ("plan.txt", "ok")]


# ---- long lines and big batches ---------------------------------------------------------------


def _naive_inside_quotes(text: str, pos: int) -> bool:
    seg = text[text.rfind("\n", 0, pos) + 1 : pos]
    return seg.count("“") > seg.count("”") or seg.count("《") > seg.count("》")


def test_quote_depth_matches_counting_from_the_line_start() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from summarizer.extract.goals import _QuoteDepth

    @settings(max_examples=200, deadline=None)
    @given(st.text(alphabet="“”《》\n甲1", max_size=60), st.lists(st.integers(0, 60), max_size=12))
    def check(text: str, positions: list[int]) -> None:
        depth = _QuoteDepth(text)
        for pos in [*sorted(min(p, len(text)) for p in positions), 0, len(text)]:  # forwards, then back
            assert depth.inside(pos) == _naive_inside_quotes(text, pos), (text, pos)

    check()


def test_one_line_document_is_read_not_dropped_as_noise(tmp_path: Path) -> None:
    """A document stored without line breaks (scraped spam words and all) still gives its targets."""
    from conftest import DOCS

    text = next(DOCS.glob("003_*.txt")).read_text("utf-8-sig")
    lined, flat = tmp_path / "lined.txt", tmp_path / "flat.txt"
    lined.write_text(text, "utf-8")
    flat.write_text(text.replace("\n", ""), "utf-8")
    summary = run_batch([lined, flat], tmp_path / "r.db", get_backend("rules"))
    a, b = (o.result for o in summary.outcomes)
    assert a is not None and b is not None, [o.message for o in summary.outcomes]
    assert len(b.goals) >= len(a.goals) // 2 > 0


def test_results_are_dropped_after_reporting_but_counted(tmp_path: Path) -> None:
    from conftest import DOCS

    seen = []
    lean = run_batch([DOCS], tmp_path / "a.db", get_backend("rules"), keep_results=False,
                     on_doc=lambda o: seen.append(o.result is not None))
    full = run_batch([DOCS], tmp_path / "b.db", get_backend("rules"))
    assert all(seen) and all(o.result is None for o in lean.outcomes)
    assert lean.totals == full.totals and full.totals["goals"] == sum(len(o.result.goals) for o in full.outcomes)
    threaded = run_batch([DOCS], tmp_path / "c.db", get_backend("rules"), keep_results=False, jobs=2)
    assert threaded.totals == full.totals


def _find_documents_by_walk(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """The listing as it was: os.walk, a stat and a real path per file, Paths compared to sort."""
    docs: list[Path] = []
    skipped: list[Path] = []
    seen: set[str] = set()
    for p in paths:
        if p.is_dir():
            unreadable: list[OSError] = []
            found: list[tuple[Path, bool]] = []
            for root, _dirs, names in os.walk(p, onerror=unreadable.append):
                for name in names:
                    f = Path(root, name)
                    if f.is_file():
                        found.append((f, load.supported(f)))
                    elif load.supported(f):
                        found.append((f, True))
            found = sorted(found + [(Path(e.filename), True) for e in unreadable if e.filename is not None])
        else:
            found = [(p, True)]
        for f, is_doc in found:
            key = os.path.realpath(f)
            if key not in seen:
                seen.add(key)
                (docs if is_doc else skipped).append(f)
    return docs, skipped


def test_folder_listing_by_scandir_equals_the_walk_with_a_stat_per_file(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("POSIX only")
    root = tmp_path / "corpus"
    for sub in ("a", "a/deep", "b", "B", "z-last"):
        (root / sub).mkdir(parents=True)
    for name in ("a/1.txt", "a/10.txt", "a/2.TXT", "a/deep/x.html", "a/notes.bin", "b/1.txt", "B/0.docx",
                 "z-last/k.pdf", "top.txt", "Top.txt", "a b.txt", "文件.txt"):
        (root / name).write_text("x", "utf-8")
    (root / "b/same.txt").symlink_to(root / "a/1.txt")  # the same file twice: listed once
    (root / "b/elsewhere.txt").symlink_to(tmp_path / "outside.txt")  # broken link with a document type
    (root / "b/folder-link").symlink_to(root / "a", target_is_directory=True)  # not followed
    os.mkfifo(root / "a/pipe.txt")
    os.mkfifo(root / "a/pipe.bin")
    (tmp_path / "via").symlink_to(root, target_is_directory=True)
    for paths in ([root], [root / "a/1.txt", root], [tmp_path / "via", root], [root / "b", root / "a"],
                  [root / "b/same.txt", root / "a"], [tmp_path / "via" / "a"]):
        assert load.find_documents(paths) == _find_documents_by_walk(paths), paths
    docs, skipped = load.find_documents([root])
    assert root / "a/pipe.txt" in docs and root / "b/elsewhere.txt" in docs and root / "a/notes.bin" in skipped
    assert not any("folder-link" in str(p) for p in docs + skipped)
