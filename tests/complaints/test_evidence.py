"""Evidence of an investigation (R5.3; issue 6 §3: "uploaded files (type and size checked, stored safely)"):
type and size checks with messages a person can act on, encryption at rest, round trip, who may download,
links to contacts and transactions, notes. Generated data only."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from kefu.complaints import evidence
from kefu.complaints.models import Evidence
from kefu.core import clock
from kefu.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.complaints.conftest import complaint_row, principal_for
from tests.customers.helpers import audit_rows
from tests.factories import auth_headers, make_account, make_customer, raw_rows

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
TXT = "通话记录摘要：客户称信用卡年费被误收，坐席承诺核实。".encode()


def ooxml(part_folder: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(f"{part_folder}/document.xml", "<doc/>")
    return buf.getvalue()


@pytest.fixture
async def case(rt, frozen, agent, handler):
    """A case under investigation, registered by ``agent`` and handled by ``handler``."""
    async with rt.db.transaction() as s:
        c = await complaint_row(s, status="investigating", handler_id=handler.id, created_by=agent.id,
                                accepted_at=clock.now())  # fmt: skip
        return c


async def _upload(client, headers, complaint_id, name, data, note=None):
    files = {"file": (name, data, "application/octet-stream")}
    return await client.post(f"/api/v1/complaints/{complaint_id}/evidence", files=files,
                             data={"note": note} if note else None, headers=headers)  # fmt: skip


def test_sniffing_by_content_and_extension():
    """Issue 6 §3: the type is checked by content (magic bytes), not by the name the client gives."""
    assert evidence.sniff(PDF) == "pdf"
    assert evidence.sniff(PNG) == "png"
    assert evidence.sniff(b"\xff\xd8\xff\xe0" + bytes(20)) == "jpg"
    assert evidence.sniff(b"GIF89a" + bytes(10)) == "gif"
    assert evidence.sniff(b"RIFF\x24\x00\x00\x00WAVEfmt ") == "wav"
    assert evidence.sniff(b"ID3\x04\x00" + bytes(10)) == "mp3"
    assert evidence.sniff(ooxml("word")) == "docx"
    assert evidence.sniff(ooxml("xl")) == "xlsx"
    assert evidence.sniff(TXT) == "txt"
    assert evidence.sniff(b"MZ\x90\x00\x03\x00\x00\x00") is None  # a Windows program
    assert evidence.sniff(b"PK\x03\x04not really a zip") is None
    assert evidence.check_file("scan.JPEG", b"\xff\xd8\xff\xe0" + bytes(20), max_bytes=1024) == ("jpeg", "image/jpeg")
    assert evidence.safe_filename("../../etc/pass\x00wd.txt", "txt") == "passwd.txt"
    assert evidence.safe_filename('C:\\Users\\某\\对账单"1".pdf', "pdf") == "对账单_1_.pdf"
    assert evidence.safe_filename("", "pdf") == "evidence.pdf"


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("empty.pdf", b"", "empty"),
        ("tool.exe", b"MZ\x90\x00", "'.exe' are not accepted"),
        ("statement.pdf", b"MZ\x90\x00\x03\x00", "named .pdf but its content is not a file of an allowed type"),
        ("photo.png", PDF, "named .png but its content is a PDF file"),
        ("notes.txt", b"\x00\x01\x02binary", "named .txt"),
        ("big.pdf", PDF + b"0" * 2048, "the largest allowed is 1,024 bytes"),
    ],
)
async def test_refused_uploads_say_why(rt, client, case, handler, name, data, words):
    """Issue 6 §3: type and size checked; a 422 names the field and says what to send instead."""
    rt.settings = rt.settings.model_copy(update={"complaint_upload_max_bytes": 1024})
    r = await _upload(client, await auth_headers(client, handler), case.id, name, data)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["errors"][0]["field"] == "file"
    assert words in body["detail"]
    assert await raw_rows(rt, "SELECT id FROM complaint_evidence") == []
    assert list((rt.settings.var_dir / "complaints").glob("*")) == []


async def test_upload_is_encrypted_at_rest_and_round_trips(rt, client, case, handler):
    """Issue 6 §3 "stored safely": the file on disk is not the plaintext; download gives the same bytes."""
    headers = await auth_headers(client, handler)
    r = await _upload(client, headers, case.id, "客户对账单.pdf", PDF, note="客户提供的对账单")
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["kind"], out["filename"], out["content_type"], out["size"]) == (
        "file", "客户对账单.pdf", "application/pdf", len(PDF),
    )  # fmt: skip
    assert out["sha256"] == hashlib.sha256(PDF).hexdigest()
    (row,) = await raw_rows(rt, "SELECT storage_key, note, filename FROM complaint_evidence")
    assert len(row.storage_key) == 32
    assert "客户提供" not in row.note  # the note column is encrypted too
    assert "对账单" not in row.filename  # and the client's file name (it may name a person)
    blob = (rt.settings.var_dir / "complaints" / row.storage_key).read_bytes()
    assert blob.startswith(evidence.FILE_MAGIC)
    assert PDF not in blob
    assert b"%PDF" not in blob
    assert (rt.settings.var_dir / "complaints" / row.storage_key).stat().st_mode & 0o077 == 0

    r = await client.get(out["download"], headers=headers)
    assert r.status_code == 200
    assert r.content == PDF
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E5%AE%A2" in r.headers["content-disposition"]
    reads = await audit_rows(rt, "complaint.evidence.read")
    assert len(reads) == 1
    assert "客户对账单" not in (reads[0].after or "")  # no file name (it may name the customer) in the audit log
    adds = await audit_rows(rt, "complaint.evidence.file")
    assert len(adds) == 1


async def test_download_permission(rt, client, case, agent, handler, handler2, supervisor):
    """Evidence files are for complaint handlers and supervisors: the agent who registered the case may read
    the case but not its files; another handler may read them; only the case's handler or a supervisor adds."""
    r = await _upload(client, await auth_headers(client, handler), case.id, "通话摘要.txt", TXT)
    assert r.status_code == 201, r.text
    url, eid = r.json()["download"], r.json()["id"]
    assert (await client.get(url, headers=await auth_headers(client, agent))).status_code == 403
    assert (await client.get(url, headers=await auth_headers(client, handler2))).status_code == 200
    assert (await client.get(url, headers=await auth_headers(client, supervisor))).status_code == 200
    r = await _upload(client, await auth_headers(client, handler2), case.id, "b.txt", TXT)
    assert r.status_code == 403
    assert "handled by someone else" in r.json()["detail"]
    assert (await client.get("/api/v1/complaints/evidence/999999/file",
                             headers=await auth_headers(client, handler))).status_code == 404  # fmt: skip
    async with rt.db.transaction() as s:
        with pytest.raises(PermissionDenied):
            await evidence.read_file(s, actor=principal_for(agent), evidence_id=eid)


async def test_rolled_back_upload_leaves_no_file(rt, case, handler):
    """Convention 1/2: a transaction that rolls back leaves no evidence row and no file behind."""

    async def upload_then_fail() -> None:
        async with rt.db.transaction() as s:
            await evidence.add_file(s, actor=principal_for(handler), complaint_id=case.id, filename="a.png",
                                    content_type="image/png", data=PNG, note=None)  # fmt: skip
            assert len(list((rt.settings.var_dir / "complaints").glob("*"))) == 1
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        await upload_then_fail()
    assert list((rt.settings.var_dir / "complaints").glob("*")) == []
    async with rt.db.transaction() as s:
        e = await evidence.add_file(s, actor=principal_for(handler), complaint_id=case.id, filename="a.docx",
                                    content_type=None, data=ooxml("word"), note=None)  # fmt: skip
    assert (rt.settings.var_dir / "complaints" / str(e.storage_key)).exists()


async def test_altered_file_is_refused(rt, case, handler):
    """Stored safely: AES-GCM detects any change to the file, and the plaintext checksum is kept."""
    async with rt.db.transaction() as s:
        e = await evidence.add_file(s, actor=principal_for(handler), complaint_id=case.id, filename="a.txt",
                                    content_type="text/plain", data=TXT, note=None)  # fmt: skip
    path = rt.settings.var_dir / "complaints" / str(e.storage_key)
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 1
    path.write_bytes(bytes(blob))
    async with rt.db.transaction() as s:
        with pytest.raises(Conflict, match="altered"):
            await evidence.read_file(s, actor=principal_for(handler), evidence_id=e.id)


async def test_links_notes_and_closed_cases(rt, client, case, handler, frozen):
    """R5.3: evidence from contact records, business records (transactions) and system data, and notes."""
    from tests.contacts.conftest import open_contact

    customer = await make_customer(rt)
    other = await make_customer(rt)
    _, _, _ = await make_account(rt, customer_id=customer.id, balance=50_000)
    (txn,) = await raw_rows(rt, "SELECT transaction_id FROM ledger_postings WHERE amount > 0 ORDER BY id DESC LIMIT 1")
    own = await open_contact(rt, customer_id=customer.id)
    foreign = await open_contact(rt, customer_id=other.id)
    async with rt.db.transaction() as s:
        c = await s.get(type(case), case.id)
        c.customer_id = customer.id
    headers = await auth_headers(client, handler)
    url = f"/api/v1/complaints/{case.id}/evidence/link"
    r = await client.post(url, json={"kind": "contact", "ref": str(own.id)}, headers=headers)
    assert r.status_code == 201, r.text
    r = await client.post(url, json={"kind": "contact", "ref": str(own.id)}, headers=headers)
    assert r.status_code == 409
    r = await client.post(url, json={"kind": "contact", "ref": str(foreign.id)}, headers=headers)
    assert r.status_code == 422
    assert "not with this case's customer" in r.json()["detail"]
    r = await client.post(url, json={"kind": "transaction", "ref": str(txn.transaction_id)}, headers=headers)
    assert r.status_code == 201, r.text
    r = await client.post(url, json={"kind": "transaction", "ref": "987654321"}, headers=headers)
    assert r.status_code == 422
    assert "not on any account of this case's customer" in r.json()["detail"]
    r = await client.post(url, json={"kind": "system", "ref": "信用卡核心系统", "note": "年费入账记录截图"},
                          headers=headers)  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["ref"] is None
    assert r.json()["note"].startswith("信用卡核心系统: ")  # the system's name is free text: kept with the note
    clear = await raw_rows(rt, "SELECT summary FROM complaint_events WHERE complaint_id = :i", i=case.id)
    clear += await raw_rows(rt, "SELECT ref FROM complaint_evidence WHERE complaint_id = :i", i=case.id)
    clear += await raw_rows(rt, "SELECT after FROM audit_log WHERE object_type = 'complaint'")
    assert not any("信用卡核心系统" in str(row[0]) for row in clear)
    r = await client.post(f"/api/v1/complaints/{case.id}/evidence/note", json={"text": "客户留号13812345678，已安抚"},
                          headers=headers)  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["note"] == "客户留号138****5678，已安抚"  # masked in responses (convention 8)
    listed = (await client.get(f"/api/v1/complaints/{case.id}/evidence", headers=headers)).json()
    assert [e["kind"] for e in listed] == ["contact", "transaction", "system", "note"]
    assert all(e["download"] is None for e in listed)
    kinds = [r.kind for r in await raw_rows(rt, "SELECT kind FROM complaint_events WHERE complaint_id = :i", i=case.id)]
    assert kinds.count("evidence") == 4

    async with rt.db.transaction() as s:
        c = await s.get(type(case), case.id)
        c.status = "closed"
    r = await client.post(f"/api/v1/complaints/{case.id}/evidence/note", json={"text": "补充说明"}, headers=headers)
    assert r.status_code == 409
    assert "reopen it first" in r.json()["detail"]


async def test_case_out_of_scope_is_not_found(rt, case, agent):
    """Convention 4: a case the actor cannot see does not exist for them."""
    async with rt.db.transaction() as s:
        with pytest.raises((NotFound, PermissionDenied)):
            await evidence.add_note(s, actor=principal_for(agent), complaint_id=case.id, text="看不到的案件")
        with pytest.raises(ValidationFailed):
            await evidence.check_file("x.pdf", b"", max_bytes=10)
    async with rt.db.transaction() as s:
        assert await evidence.list_for(s, case.id) == []
        assert isinstance(Evidence, type)
