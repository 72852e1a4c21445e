"""Readers by format: text encodings, HTML pages, .docx, text and image-only PDFs.

Fixtures are built by the tests themselves, except tests/data/policy_zh.pdf (a tiny
Chinese PDF with a text layer, generated once by tests/data/make_text_pdf.py so CI
needs no CJK font).
"""

from __future__ import annotations

import codecs
import zlib
from pathlib import Path

import pytest

from summarizer.backends import get_backend
from summarizer.errors import InputError
from summarizer.ingest import formats, load
from summarizer.pipeline import prepare, run_batch

DATA = Path(__file__).parent / "data"
TEXT = "关于印发实施方案的通知\n一、总体要求\n（一）加快数字产业化。（责任单位：市经信局）\n"
HEADER = "| 工作内容 | 目标任务 | 责任单位 |"


@pytest.fixture(autouse=True)
def _readers():
    """register_all() for each test, and READERS restored after it."""
    saved = dict(load.READERS)
    formats.register_all()
    yield
    load.READERS.clear()
    load.READERS.update(saved)


# --------------------------------------------------------------------------- builders

HTML_PAGE = """<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>某市人民政府</title>
<script>var tracker = "统计脚本"; document.write("广告");</script>
<style>.nav { color: red }</style></head>
<body>
<header><div class="logo">某市人民政府门户网站</div></header>
<nav><a href="/">首页</a> &gt; <a href="/zwgk">政务公开</a></nav>
<div class="article">
  <h1>关于印发某市数字经济发展实施方案的通知</h1>
  <p>各县（市、区）人民政府，市政府各部门：</p>
  <p>一、<b>总体</b>要求</p>
  <p>（一）加快数字产业化。培育软件和信息服务业。<br>到2025年产值达到500亿元。</p>
  <table border="1">
    <tr><th>工作内容</th><th>目标任务</th><th>责任单位</th></tr>
    <tr><td>1.推进企业上云</td><td>新增上云企业1000家</td><td>市经信局、市发改委</td></tr>
    <tr><td>2.建设智能工厂</td><td><p>建成10个</p><p>智能工厂</p></td><td>市科技局牵头，市财政局配合</td></tr>
  </table>
  <script>console.log("正文里的脚本");</script>
</div>
<footer><p>版权所有：某市人民政府办公室 备案号：浙ICP备00000000号</p></footer>
</body></html>
"""


def _write_docx(path: Path, rows: list[list[str]]) -> None:
    docx = pytest.importorskip("docx")
    doc = docx.Document()
    doc.add_paragraph("关于印发某市数字经济发展实施方案的通知")
    doc.add_paragraph("一、重点任务")
    table = doc.add_table(rows=len(rows), cols=len(rows[0]))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    doc.add_paragraph("二、保障措施")
    doc.add_paragraph("（一）强化组织领导。（责任单位：市政府办公室）")
    doc.save(str(path))


DOCX_ROWS = [
    ["工作内容", "目标任务", "责任单位"],
    ["1.推进企业上云", "新增上云企业1000家", "市经信局、市发改委"],
    ["2.建设智能工厂", "建成10个智能工厂", "市科技局牵头，市财政局配合"],
]


def _pdf_bytes(objects: list[bytes]) -> bytes:
    """A well-formed PDF from numbered object bodies (1-based), with a real xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def image_only_pdf() -> bytes:
    """One page that only paints a grey 8x8 image, as a scanner writes: no text at all."""
    pixels = zlib.compress(bytes(range(0, 256, 4)))
    content = b"q 200 0 0 200 100 400 cm /Im0 Do Q"
    return _pdf_bytes([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
         b"/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>"),
        (b"<< /Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray "
         b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n" % len(pixels))
        + pixels + b"\nendstream",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ])


# --------------------------------------------------------------------------- text encodings


@pytest.mark.parametrize(
    "name, data, encoding",
    [
        ("gbk.txt", TEXT.encode("gbk"), "gb18030"),
        ("utf16.txt", TEXT.encode("utf-16"), "utf-16"),  # Python writes the BOM
        ("utf8bom.txt", codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        ("utf16be.txt", codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
    ],
)
def test_text_encodings(tmp_path: Path, name: str, data: bytes, encoding: str) -> None:
    (tmp_path / name).write_bytes(data)
    raw = load.read_document(tmp_path / name)
    assert raw.encoding == encoding
    assert raw.text == TEXT
    assert not raw.text.startswith("\ufeff")


# --------------------------------------------------------------------------- HTML


def test_html_body_text_and_table_rows(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(HTML_PAGE.encode("gbk"))
    raw = load.read_document(page)
    text = raw.text
    assert raw.encoding == "gb18030"  # meta says gb2312; decoded as its superset
    lines = text.split("\n")
    assert lines[0] == "关于印发某市数字经济发展实施方案的通知"
    assert "一、总体要求" in lines  # inline <b> does not break the line
    # <br> breaks the line
    assert "（一）加快数字产业化。培育软件和信息服务业。" in lines
    assert "到2025年产值达到500亿元。" in lines
    # dropped: script, style, nav, header, footer, head/title
    for gone in ("统计脚本", "正文里的脚本", "color: red", "政务公开", "门户网站", "版权所有", "ICP", "某市人民政府\n"):
        assert gone not in text
    # table rows kept as rows, cells joined by ' | '; block content inside a cell stays on the row
    assert HEADER in lines
    assert "| 1.推进企业上云 | 新增上云企业1000家 | 市经信局、市发改委 |" in lines
    assert "| 2.建设智能工厂 | 建成10个 智能工厂 | 市科技局牵头，市财政局配合 |" in lines


def test_html_table_rows_reach_the_task_table_parser(tmp_path: Path) -> None:
    page = tmp_path / "page.htm"
    page.write_bytes(HTML_PAGE.encode("gbk"))
    raw = load.read_document(page)
    _, doc = prepare(raw.doc_id, raw.text)
    rows = [m for m in doc.outline.measures if m.style == "table"]
    assert [(m.number, m.title) for m in rows] == [("1", "推进企业上云"), ("2", "建设智能工厂")]
    a, b = rows[0].cells["duty"]
    assert doc.text[a:b] == "市经信局、市发改委"


def test_html_charset_detection(tmp_path: Path) -> None:
    body = "<html><body><p>数字经济发展</p></body></html>"
    # no meta: load's detection (strict UTF-8, then GB18030)
    (tmp_path / "a.html").write_bytes(body.encode("gbk"))
    assert formats.read_html(tmp_path / "a.html") == ("数字经济发展", "gb18030")
    # a stale gb2312 label on a UTF-8 page: valid UTF-8 wins over the label
    stale = '<html><head><meta charset="gb2312"></head><body><p>数字经济发展</p></body></html>'
    (tmp_path / "b.html").write_bytes(stale.encode("utf-8"))
    assert formats.read_html(tmp_path / "b.html") == ("数字经济发展", "utf-8")
    # a Big5 page is decoded with its label, not guessed as GB18030
    big5 = '<html><head><meta charset="big5"></head><body><p>數位經濟發展</p></body></html>'
    (tmp_path / "c.html").write_bytes(big5.encode("big5"))
    assert formats.read_html(tmp_path / "c.html") == ("數位經濟發展", "big5")
    # UTF-8 BOM
    (tmp_path / "d.html").write_bytes(codecs.BOM_UTF8 + body.encode("utf-8"))
    assert formats.read_html(tmp_path / "d.html")[0] == "数字经济发展"


def test_html_layout_table_is_not_one_row(tmp_path: Path) -> None:
    """Old government pages put the whole article in a layout table around the data table."""
    page = (
        "<html><body><table><tr><td><p>一、总体要求</p><p>（一）加快发展。</p>"
        "<table><tr><td>工作内容</td><td>责任单位</td></tr><tr><td>1.上云</td><td>市经信局</td></tr></table>"
        "</td></tr></table></body></html>"
    )
    (tmp_path / "layout.html").write_text(page, encoding="utf-8")
    text, _ = formats.read_html(tmp_path / "layout.html")
    assert text.split("\n") == ["一、总体要求", "（一）加快发展。", "| 工作内容 | 责任单位 |", "| 1.上云 | 市经信局 |"]


def test_html_pipe_inside_a_cell_does_not_split_the_row(tmp_path: Path) -> None:
    page = "<table><tr><td>1.任务</td><td>A|B</td><td>市经信局</td></tr></table>"
    (tmp_path / "p.html").write_text(page, encoding="utf-8")
    assert formats.read_html(tmp_path / "p.html")[0] == "| 1.任务 | A｜B | 市经信局 |"


@pytest.mark.parametrize(
    "data, problem",
    [
        (b"", "empty file"),
        (b"<html><head><script>x()</script></head><body><nav>menu</nav></body></html>", "no body text"),
        (b"\x00\x01\x02binary\x00" * 50, "binary file"),
    ],
)
def test_html_errors(tmp_path: Path, data: bytes, problem: str) -> None:
    (tmp_path / "bad.html").write_bytes(data)
    with pytest.raises(InputError) as err:
        load.read_document(tmp_path / "bad.html")
    assert problem in str(err.value) and "bad.html" in str(err.value)
    assert "\n" not in str(err.value)


# --------------------------------------------------------------------------- DOCX


def test_docx_paragraphs_and_table_in_document_order(tmp_path: Path) -> None:
    path = tmp_path / "plan.docx"
    _write_docx(path, DOCX_ROWS)
    raw = load.read_document(path)
    assert raw.encoding == "docx"
    assert raw.text.split("\n") == [
        "关于印发某市数字经济发展实施方案的通知",
        "一、重点任务",
        HEADER,
        "| 1.推进企业上云 | 新增上云企业1000家 | 市经信局、市发改委 |",
        "| 2.建设智能工厂 | 建成10个智能工厂 | 市科技局牵头，市财政局配合 |",
        "二、保障措施",
        "（一）强化组织领导。（责任单位：市政府办公室）",
    ]
    _, doc = prepare(raw.doc_id, raw.text)
    rows = [m for m in doc.outline.items if m.style == "table"]
    assert [m.title for m in rows] == ["推进企业上云", "建设智能工厂"]


def test_docx_merged_cells_appear_once(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    doc = docx.Document()
    table = doc.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "一、数字产业化"
    for c, v in enumerate(["1.推进上云", "新增1000家", "市经信局"]):
        table.cell(1, c).text = v
    doc.save(str(tmp_path / "m.docx"))
    text, _ = formats.read_docx(tmp_path / "m.docx")
    assert text.split("\n") == ["| 一、数字产业化 |", "| 1.推进上云 | 新增1000家 | 市经信局 |"]


@pytest.mark.parametrize(
    "data, problem",
    [
        (b"PK\x03\x04 this is not really a zip", "not a valid .docx"),
        (b"plain text pretending to be a docx", "not a valid .docx"),
        (b"", "empty file"),
    ],
)
def test_docx_errors(tmp_path: Path, data: bytes, problem: str) -> None:
    (tmp_path / "bad.docx").write_bytes(data)
    with pytest.raises(InputError) as err:
        load.read_document(tmp_path / "bad.docx")
    assert problem in str(err.value) and "bad.docx" in str(err.value)
    assert "\n" not in str(err.value)


def test_docx_zip_without_document_part(tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(tmp_path / "bad.docx", "w") as z:
        z.writestr("hello.txt", "not a word document")
    with pytest.raises(InputError) as err:
        load.read_document(tmp_path / "bad.docx")
    assert "corrupt .docx" in str(err.value) and "\n" not in str(err.value)


# --------------------------------------------------------------------------- PDF


def test_pdf_with_chinese_text_layer() -> None:
    raw = load.read_document(DATA / "policy_zh.pdf")
    assert raw.encoding == "pdf"
    flat = raw.text.replace("\n", "")
    assert raw.text.startswith("关于印发某市数字经济发展实施方案的通知\n一、总体要求\n")
    assert "（一）加快数字产业化。培育软件和信息服务业，到2025年产值达到500亿元。" in flat
    assert "（二）推进产业数字化。建设10个智能工厂。（市科技局牵头，市财政局配合）" in flat
    _, doc = prepare(raw.doc_id, raw.text)
    assert [m.number for m in doc.outline.measures] == ["一", "二"]


def test_image_only_pdf_says_ocr_first(tmp_path: Path) -> None:
    (tmp_path / "scan.pdf").write_bytes(image_only_pdf())
    with pytest.raises(InputError) as err:
        load.read_document(tmp_path / "scan.pdf")
    assert str(err.value) == f"{tmp_path / 'scan.pdf'}: PDF has no text layer (scanned?); OCR it first"


@pytest.mark.parametrize(
    "data, problem",
    [
        (b"%PDF-1.4\n garbage garbage", "corrupt PDF"),
        (b"<html>not a pdf</html>", "not a PDF file"),
        (b"", "empty file"),
    ],
)
def test_pdf_errors(tmp_path: Path, data: bytes, problem: str) -> None:
    (tmp_path / "bad.pdf").write_bytes(data)
    with pytest.raises(InputError) as err:
        load.read_document(tmp_path / "bad.pdf")
    assert problem in str(err.value) and "bad.pdf" in str(err.value)
    assert "\n" not in str(err.value)


def test_truncated_pdf_is_an_input_error(tmp_path: Path) -> None:
    data = (DATA / "policy_zh.pdf").read_bytes()
    (tmp_path / "cut.pdf").write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError) as err:
        load.read_document(tmp_path / "cut.pdf")
    assert "cut.pdf" in str(err.value) and "\n" not in str(err.value)


# --------------------------------------------------------------------------- registry and batch


def test_register_all_is_idempotent_and_keeps_txt() -> None:
    formats.register_all()
    formats.register_all()
    assert set(load.READERS) >= {".txt", ".html", ".htm", ".docx", ".pdf"}
    assert load.supported(Path("X.PDF")) and load.supported(Path("a.Docx"))


def test_rules_pipeline_over_a_mixed_folder(tmp_path: Path) -> None:
    src = tmp_path / "docs"
    (src / "sub").mkdir(parents=True)
    (src / "gbk.txt").write_bytes(TEXT.encode("gbk"))
    (src / "utf16.txt").write_bytes(TEXT.encode("utf-16"))
    (src / "page.html").write_bytes(HTML_PAGE.encode("gbk"))
    _write_docx(src / "sub" / "plan.docx", DOCX_ROWS)
    (src / "policy.pdf").write_bytes((DATA / "policy_zh.pdf").read_bytes())
    (src / "scan.pdf").write_bytes(image_only_pdf())
    (src / "broken.docx").write_bytes(b"not a zip")
    (src / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0 old binary word")
    (src / "notes.md").write_text("# notes", encoding="utf-8")

    seen = []
    summary = run_batch([src], tmp_path / "r.db", get_backend("rules"), on_doc=seen.append)

    by_name = {Path(o.path).name: o for o in summary.outcomes}
    assert set(by_name) == {"gbk.txt", "utf16.txt", "page.html", "plan.docx", "policy.pdf", "scan.pdf",
                            "broken.docx"}
    assert len(seen) == len(summary.outcomes)
    assert sorted(Path(p).name for p in summary.ignored) == ["notes.md", "old.doc"]
    for name in ("gbk.txt", "utf16.txt", "page.html", "plan.docx", "policy.pdf"):
        assert by_name[name].status == "ok", by_name[name].message
        assert by_name[name].result is not None and by_name[name].result.measures
    assert by_name["scan.pdf"].status == "failed"
    assert by_name["scan.pdf"].message.endswith("PDF has no text layer (scanned?); OCR it first")
    assert by_name["broken.docx"].status == "failed"
    assert "broken.docx" in by_name["broken.docx"].message
    # table rows from HTML and .docx become measures with their duties
    page = by_name["page.html"].result
    assert page is not None
    units = {r.unit for m in page.measures for r in m.responsibilities}
    assert {"市科技局", "市财政局"} <= units
    assert not summary.ok  # the two failures are reported, the batch went on


def test_bare_unit_list_in_a_duty_column_gets_a_role(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(HTML_PAGE.encode("gbk"))
    summary = run_batch([page], tmp_path / "r.db", get_backend("rules"))
    result = summary.outcomes[0].result
    assert result is not None
    first = next(m for m in result.measures if m.title == "推进企业上云")
    assert {r.unit for r in first.responsibilities} == {"市经信局", "市发改委"}
