"""Regenerate tests/data/policy_zh.pdf: a one-page Chinese policy PDF with a text layer.

Run once by hand (not by the tests, not in CI), then commit the PDF:

    apt-get install fonts-wqy-zenhei        # any CJK TrueType font will do
    pip install fpdf2                        # generation only; not a project dependency
    python tests/data/make_text_pdf.py [path/to/cjk-font.ttc]

fpdf2 embeds a subset of the font with a ToUnicode map, as office tools and
government publishing systems do, so text extraction sees real CJK text.
"""

import sys
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF

FONT = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
LINES = [
    "关于印发某市数字经济发展实施方案的通知",
    "一、总体要求",
    "（一）加快数字产业化。培育软件和信息服务业，到2025年产值达到500亿元。（责任单位：市经信局、市发改委）",
    "（二）推进产业数字化。建设10个智能工厂。（市科技局牵头，市财政局配合）",
]


def main() -> None:
    pdf = FPDF()
    pdf.set_creation_date(datetime(2024, 1, 1, tzinfo=UTC))  # reproducible bytes
    pdf.add_font("zh", fname=FONT, collection_font_number=0)
    pdf.set_font("zh", size=11)
    pdf.add_page()
    for line in LINES:
        pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    out = Path(__file__).with_name("policy_zh.pdf")
    pdf.output(str(out))
    print(out, out.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
