"""Realistic test documents made on the fly with fpdf2 (nothing is checked in), and broken ones.

A denial letter, a summary of benefits and an explanation of benefits laid out the way
insurers print them, plus the bad files an upload must refuse: encrypted, image-only,
truncated, and a decompression bomb (a small file whose content stream inflates to
hundreds of megabytes).
"""

from __future__ import annotations

import io
import os
import zlib
from dataclasses import dataclass

from fpdf import FPDF


@dataclass(frozen=True)
class Letter:
    insurer: str = "Acme Health Insurance Company"
    member: str = "Jane Doe"
    letter_date: str = "March 3, 2026"
    claim_number: str = "CLM-2026-0042117"
    service: str = "MRI of the lumbar spine"
    service_date: str = "February 10, 2026"
    reason: str = ("The service is not medically necessary. The records we received do not show six weeks of "
                   "conservative treatment, such as physical therapy, before the imaging.")
    days: int = 180
    appeal_address: str = "Acme Health Insurance Company, Attn: Appeals Unit, P.O. Box 12345, Columbus, OH 43215"
    ssn: str | None = None


def _pdf() -> FPDF:
    pdf = FPDF(format="letter")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    return pdf


def _lines(pdf: FPDF, *lines: str, gap: float = 2) -> None:
    for line in lines:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(gap)


def _bytes(pdf: FPDF) -> bytes:
    return bytes(pdf.output())


def denial_letter_pdf(letter: Letter | None = None) -> bytes:
    """Two pages: the decision and reason on page 1, appeal rights, deadline and address on page 2."""
    letter = letter or Letter()
    pdf = _pdf()
    pdf.set_font("Helvetica", "B", 13)
    _lines(pdf, letter.insurer)
    pdf.set_font("Helvetica", size=11)
    _lines(pdf, "Member Services: 1-800-555-0142", "P.O. Box 12345, Columbus, OH 43215")
    _lines(pdf, letter.letter_date)
    member = [letter.member, "Member ID: XJH123456789", f"Claim number: {letter.claim_number}",
              "Group: Acme Corp Employee Health Plan"]
    if letter.ssn:
        member.append(f"SSN: {letter.ssn}")
    _lines(pdf, *member)
    pdf.set_font("Helvetica", "B", 12)
    _lines(pdf, "NOTICE OF ADVERSE BENEFIT DETERMINATION")
    pdf.set_font("Helvetica", size=11)
    _lines(pdf, f"Dear {letter.member},",
           f"We reviewed the claim for {letter.service} on {letter.service_date} from Columbus Imaging Center. "
           "We have denied this claim.")
    _lines(pdf, f"Reason for denial: {letter.reason}")
    _lines(pdf, "This decision was made under your employer-sponsored group health plan. A physician reviewer "
                "in radiology reviewed your records.")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 12)
    _lines(pdf, "Your right to appeal")
    pdf.set_font("Helvetica", size=11)
    _lines(pdf, f"You have {letter.days} days from the date of this letter to file an appeal. If your health "
                "would be seriously harmed by waiting, you may ask for an expedited appeal.",
           f"Send your written appeal to: {letter.appeal_address}.",
           "Include a copy of this letter, any records you want us to consider, and a letter from your doctor. "
           "You may also request an external review by an independent review organization after the internal "
           "appeal.")
    return _bytes(pdf)


def summary_of_benefits_pdf() -> bytes:
    pdf = _pdf()
    pdf.set_font("Helvetica", "B", 13)
    _lines(pdf, "Summary of Benefits and Coverage: What this Plan Covers & What You Pay for Covered Services")
    pdf.set_font("Helvetica", size=11)
    _lines(pdf, "Acme Health Insurance Company: Gold PPO 1500",
           "Coverage Period: 01/01/2026 - 12/31/2026 | Coverage for: Individual + Family | Plan Type: PPO")
    _lines(pdf, "What is the overall deductible? $1,500 individual / $3,000 family",
           "What is the out-of-pocket limit for this plan? $6,000 individual / $12,000 family",
           "Primary care visit to treat an injury or illness: $25 copay",
           "Specialist visit: $50 copay",
           "Urgent care: $75 copay",
           "Emergency room care: $300 copay",
           "Generic drugs (Tier 1): $10 copay",
           "Diagnostic test (x-ray, blood work): 20% coinsurance")
    return _bytes(pdf)


def explanation_of_benefits_pdf() -> bytes:
    pdf = _pdf()
    pdf.set_font("Helvetica", "B", 13)
    _lines(pdf, "Acme Health Insurance Company", "Explanation of Benefits")
    pdf.set_font("Helvetica", size=11)
    _lines(pdf, "THIS IS NOT A BILL", "Claim number: EOB-77812", "Date of service: 01/15/2026",
           "Provider: Riverside Medical Group", "Service: Office visit, specialist")
    _lines(pdf, "Amount billed: $1,250.00", "Allowed amount: $480.00", "Plan paid: $380.00", "You owe: $100.00")
    return _bytes(pdf)


def encrypted_pdf() -> bytes:
    """Needs a password to open (a user password, not only an owner password)."""
    pdf = _pdf()
    _lines(pdf, "Confidential claim letter. Your claim was denied.")
    pdf.set_encryption(owner_password="owner-secret", user_password="user-secret")
    return _bytes(pdf)


def _png(width: int, height: int) -> bytes:
    """A valid grey PNG made with zlib (fpdf2 embeds it like a scan)."""
    raw = b"".join(b"\x00" + bytes([200]) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (len(data).to_bytes(4, "big") + kind + data
                + zlib.crc32(kind + data).to_bytes(4, "big"))

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def png_bytes() -> bytes:
    return _png(64, 64)


def image_only_pdf() -> bytes:
    """A 'scanned' letter: one image per page, no text layer."""
    pdf = FPDF(format="letter")
    pdf.add_page()
    pdf.image(io.BytesIO(_png(600, 800)), x=10, y=10, w=190)
    return _bytes(pdf)


def truncated_pdf() -> bytes:
    data = denial_letter_pdf()
    return data[: len(data) // 3]


def padded_pdf(total_bytes: int) -> bytes:
    """A real denial letter carrying an incompressible attachment of `total_bytes` (the file is a few KB more)."""
    pdf = FPDF(format="letter")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    _lines(pdf, "Acme Health Insurance Company", "March 3, 2026", "Claim number: CLM-PAD-0001",
           "We have denied the claim for physical therapy because it is not medically necessary.",
           "You have 180 days from the date of this letter to file an appeal.")
    pdf.embed_file(bytes=os.urandom(total_bytes), basename="records.bin", compress=False)
    return _bytes(pdf)


def bomb_pdf(inflated_bytes: int = 512 * 1024 * 1024) -> bytes:
    """A one-page PDF whose content stream is ~1 MB of deflate that inflates to `inflated_bytes` of spaces."""
    compressor = zlib.compressobj(9)
    block = b" " * (1024 * 1024)
    parts = [compressor.compress(block) for _ in range(inflated_bytes // len(block))]
    stream = b"".join(parts) + compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" /Filter /FlateDecode >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()
