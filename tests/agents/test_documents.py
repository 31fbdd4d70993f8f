"""Reading documents and their facts (pure functions), the model path over real HTTP, and memory bounds."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from agents.document_reader import MAX_TEXT_CHARS, UnreadableDocument, chunk_pages, read_document, sniff
from agents.documents import DocumentFacts, extract_document_facts, parse_date, read_document_facts
from agents.models import build_model
from tests.agents.fake_openai import FakeOpenAI
from tests.utils import pdfs
from tests.utils.db import ROOT

MIB = 1024 * 1024


def facts_of(data: bytes, kind: str | None = None) -> dict[str, Any]:
    return extract_document_facts(read_document(data).text, kind)


def test_denial_letter_facts() -> None:
    facts = facts_of(pdfs.denial_letter_pdf())
    assert facts["kind"] == "denial_letter"
    assert facts["denial_date"] == "2026-03-03"
    assert facts["service"] == "MRI of the lumbar spine"
    assert facts["reason"].startswith("The service is not medically necessary. The records we received")
    assert facts["reason_code"] == "medical_necessity"
    assert facts["claim_number"] == "CLM-2026-0042117"
    assert facts["appeal_address"] == "Acme Health Insurance Company, Attn: Appeals Unit, P.O. Box 12345, Columbus, " \
                                      "OH 43215"
    assert facts["deadline_days"] == 180 and facts["appeal_deadline"] == "2026-08-30"
    assert facts["plan_type"] == "employer" and facts["insurer"] == "Acme Health Insurance Company"
    assert facts["pages"] == {**facts["pages"], "reason": 1, "appeal_address": 2, "deadline_days": 2}


def test_deadlines_across_year_ends_and_leap_days_and_stated_dates() -> None:
    late = facts_of(pdfs.denial_letter_pdf(pdfs.Letter(letter_date="December 15, 2027", days=60)))
    assert late["appeal_deadline"] == "2028-02-13"
    leap = facts_of(pdfs.denial_letter_pdf(pdfs.Letter(letter_date="02/29/2028", days=180)))
    assert leap["denial_date"] == "2028-02-29" and leap["appeal_deadline"] == "2028-08-27"
    stated = extract_document_facts("Date: June 1, 2026\nYour claim for a sleep study has been denied because it "
                                    "was not covered.\nYour appeal must be received by August 1, 2026.",
                                    "denial_letter")
    assert stated["appeal_deadline"] == "2026-08-01" and stated["service"] == "sleep study"
    assert parse_date("on 3 March 2026") is not None and parse_date("February 30, 2026") is None


def test_summary_of_benefits_facts() -> None:
    facts = facts_of(pdfs.summary_of_benefits_pdf())
    assert facts["kind"] == "summary_of_benefits" and facts["network_type"] == "PPO"
    assert (facts["deductible"], facts["deductible_family"]) == ("$1,500", "$3,000")
    assert (facts["out_of_pocket_max"], facts["out_of_pocket_max_family"]) == ("$6,000", "$12,000")
    assert facts["copays"] == {"primary_care": "$25 copay", "specialist": "$50 copay", "urgent_care": "$75 copay",
                               "emergency_room": "$300 copay", "generic_drugs": "$10 copay"}
    assert facts["coinsurance"] == "20%"


def test_explanation_of_benefits_facts() -> None:
    facts = facts_of(pdfs.explanation_of_benefits_pdf())
    assert facts["kind"] == "explanation_of_benefits"
    assert {k: facts[k] for k in ("billed", "allowed", "paid", "owed")} == {
        "billed": "$1,250.00", "allowed": "$480.00", "paid": "$380.00", "owed": "$100.00"}
    assert facts["claim_number"] == "EOB-77812" and facts["service_date"] == "2026-01-15"


def test_text_files_pages_chunks_and_masking() -> None:
    text = ("Explanation of Benefits\nMember SSN: 123-45-6789\nCard 4111 1111 1111 1111\n" + "word " * 400
            + "\fSecond page: You owe: $20.00")
    read = read_document(text.encode())
    assert read.media_type == "text/plain" and read.page_count == 2
    assert "123-45-6789" not in read.text and "4111 1111 1111 1111" not in read.text
    chunks = chunk_pages(read.pages, size=300)
    assert chunks[-1] == (2, "Second page: You owe: $20.00")
    assert all(len(body) <= 300 for _, body in chunks) and {page for page, _ in chunks} == {1, 2}


@pytest.mark.parametrize(("data", "problem"), [
    (b"", "empty"),
    (pdfs.png_bytes(), "unsupported_type"),
    (b"PK\x03\x04 a docx", "unsupported_type"),
    (b"\xff\xfe\x00\x01 utf-16 junk", "unsupported_type"),
])
def test_sniffing_refuses_what_is_not_a_pdf_or_text(data: bytes, problem: str) -> None:
    with pytest.raises(UnreadableDocument) as caught:
        sniff(data)
    assert caught.value.problem == problem


def test_text_is_capped() -> None:
    read = read_document(("a long line of text. " * (MAX_TEXT_CHARS // 10)).encode())
    assert len(read.text) == MAX_TEXT_CHARS and read.truncated


class DocumentModel(FakeOpenAI):
    """Answers the document-facts schema like a model that read the letter (and misread the deadline)."""

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        answer = super().completion(body)
        schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("name")
        if schema == DocumentFacts.__name__:
            answer["choices"][0]["message"]["content"] = json.dumps({
                "kind": "denial_letter", "denial_date": "2026-03-03", "service": "Lumbar spine MRI (CPT 72148)",
                "reason": "Not medically necessary: no record of six weeks of conservative treatment",
                "deadline_days": 180, "appeal_address": None, "claim_number": "CLM-2026-0042117",
                "provider": "Columbus Imaging Center, SSN on file 123-45-6789"})
        return answer


async def test_structured_output_reads_the_facts_and_the_rules_fill_the_gaps() -> None:
    text = read_document(pdfs.denial_letter_pdf()).text
    with DocumentModel() as server:
        model = build_model("openai", base_url=server.base_url, api_key="sk-test", model_name="fake", timeout=5)
        facts = await read_document_facts(model, text)
    sent = server.requests[0]
    assert sent["response_format"]["json_schema"]["name"] == "DocumentFacts"
    assert "CLM-2026-0042117" in sent["messages"][-1]["content"]
    assert facts["service"] == "Lumbar spine MRI (CPT 72148)"  # the model's reading
    assert facts["appeal_address"].endswith("Columbus, OH 43215")  # the rules', where the model had none
    assert facts["appeal_deadline"] == "2026-08-30"  # computed, not taken from the model
    assert "123-45-6789" not in json.dumps(facts)  # masked whatever the model returns


async def test_a_model_that_is_down_leaves_the_rules() -> None:
    from tests.agents.fake_openai import closed_port_url

    model = build_model("openai", base_url=closed_port_url(), api_key="sk-test", timeout=2, max_retries=0)
    facts = await read_document_facts(model, read_document(pdfs.denial_letter_pdf()).text)
    assert facts["appeal_deadline"] == "2026-08-30" and facts["service"] == "MRI of the lumbar spine"


def test_a_decompression_bomb_is_refused_with_bounded_memory(tmp_path: Any) -> None:
    """In a fresh process, so its peak RSS is this read's: a file of ~250 KB inflating to 256 MiB."""
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(pdfs.bomb_pdf(256 * MIB))
    script = textwrap.dedent(f"""
        import resource, sys
        from agents.document_reader import UnreadableDocument, read_document
        data = open({str(bomb)!r}, "rb").read()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            read_document(data)
            print("read", flush=True)
        except UnreadableDocument as exc:
            print(exc.problem, flush=True)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    problem, grown_kib = done.stdout.split()
    assert problem == "too_complex"
    assert bomb.stat().st_size < MIB
    assert int(grown_kib) < 100 * 1024, f"peak RSS grew by {int(grown_kib) // 1024} MiB"
