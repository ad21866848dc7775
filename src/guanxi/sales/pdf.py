"""The 认购书 as a printable PDF: four copies marked customer / finance / sales / sales.

Rendered from the agreement's stored snapshot, so a reprint is always what was issued. The
CJK font comes from Debian (fonts-wqy-zenhei) or GUANXI_CJK_FONT.
"""

import logging
import os
from pathlib import Path

from fpdf import FPDF

from guanxi.core.errors import DomainError

FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
]
# fontTools reports bitmap tables it drops while subsetting; the PDF is fine without them.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

COPIES = [
    "第一联 客户联 (Customer)",
    "第二联 财务联 (Finance)",
    "第三联 销售联 (Sales)",
    "第四联 销售联 (Sales)",
]


def cjk_font() -> str:
    for candidate in [os.environ.get("GUANXI_CJK_FONT", ""), *FONT_CANDIDATES]:
        if candidate and Path(candidate).exists():
            return candidate
    raise DomainError(
        "No Chinese font found: install Debian's fonts-wqy-zenhei or set GUANXI_CJK_FONT.",
        code="font_missing",
        status=503,
    )


def agreement_pdf(agreement) -> bytes:
    c = agreement.content
    pdf = FPDF(format="A4")
    pdf.add_font("zh", fname=cjk_font())
    pdf.set_auto_page_break(auto=True, margin=15)
    is_amendment = agreement.kind == "amendment"
    title = "认购书补充协议" if is_amendment else "商品房认购书"
    rows = [
        ("编号 No.", agreement.number),
        ("签发日期 Date", c.get("date", "")),
        ("买受人 Buyer", c.get("buyer", "")),
        ("产品 Product", c.get("product", "")),
        ("房号 Unit", " ".join(str(x) for x in (c.get("building"), c.get("unit")) if x)),
        ("面积 Area (m²)", c.get("area", "")),
        ("总价 Price (CNY)", f"¥{c.get('price', '')}"),
        ("已付定金 Deposit (CNY)", f"¥{c.get('deposit', '')}"),
        ("余款 Balance (CNY)", f"¥{c.get('balance', '')}"),
        ("置业顾问 Salesperson", c.get("salesperson", "")),
    ]
    if is_amendment:
        rows.insert(1, ("补充于 Amends", c.get("amends", "")))
        rows.append(("变更原因 Reason", c.get("reason", "")))
    for copy in COPIES:
        pdf.add_page()
        pdf.set_font("zh", size=18)
        pdf.cell(0, 12, title, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("zh", size=10)
        pdf.cell(0, 7, copy, align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.set_font("zh", size=12)
        for label, value in rows:
            pdf.cell(60, 9, label, border=1)
            pdf.cell(0, 9, str(value), border=1, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)
        pdf.set_font("zh", size=10)
        pdf.multi_cell(
            0,
            6,
            "本认购书一式四份，客户一份、财务部一份、销售部两份，具同等效力。"
            "认购书签发后不得涂改，任何变更以补充协议为准。定金及房款须交至财务部，"
            "销售人员不得私自收取。",
        )
        pdf.ln(10)
        pdf.cell(90, 8, "买受人签字：")
        pdf.cell(0, 8, "出卖人（盖章）：", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
