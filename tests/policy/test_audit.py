"""The audit log: hash-chained JSONL; verify() detects edits, removals and truncation."""

from __future__ import annotations

import json

from assistant.escalation.policy.audit import AuditLog, verify


def three_entries(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    for i in range(3):
        log.append({"task": "explain", "decision": "sent", "payload_sha256": f"{i:064x}", "hits": [{"rule": "email", "count": 1}]})
    return log


def test_a_fresh_chain_verifies(tmp_path):
    log = three_entries(tmp_path)
    result = log.verify()
    assert result.ok and result.entries == 3
    assert [e["seq"] for e in log.entries()] == [1, 2, 3]


def test_an_edited_line_is_detected(tmp_path):
    log = three_entries(tmp_path)
    lines = log.path.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["decision"] = "blocked"
    lines[1] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    log.path.write_text("\n".join(lines) + "\n")
    result = verify(log.path)
    assert not result.ok and any(":2: entry hash does not match" in p for p in result.problems)


def test_an_edited_line_with_a_recomputed_hash_breaks_the_chain(tmp_path):
    from assistant.escalation.policy.audit import entry_hash

    log = three_entries(tmp_path)
    lines = log.path.read_text().splitlines()
    entry = json.loads(lines[0])
    entry["reason"] = "nothing to see"
    entry["hash"] = entry_hash(entry)
    lines[0] = json.dumps(entry)
    log.path.write_text("\n".join(lines) + "\n")
    assert any(":2: chain broken" in p for p in verify(log.path).problems)


def test_removing_a_middle_entry_is_detected(tmp_path):
    log = three_entries(tmp_path)
    lines = log.path.read_text().splitlines()
    log.path.write_text(lines[0] + "\n" + lines[2] + "\n")
    assert not verify(log.path).ok


def test_truncating_trailing_entries_is_detected(tmp_path):
    log = three_entries(tmp_path)
    lines = log.path.read_text().splitlines()
    log.path.write_text("\n".join(lines[:2]) + "\n")
    result = verify(log.path)
    assert not result.ok and any("truncated" in p for p in result.problems)


def test_a_cut_off_last_line_is_detected(tmp_path):
    log = three_entries(tmp_path)
    data = log.path.read_bytes()
    log.path.write_bytes(data[:-20])
    assert not verify(log.path).ok


def test_appending_continues_the_chain_after_reopening(tmp_path):
    three_entries(tmp_path)
    AuditLog(tmp_path / "audit.jsonl").append({"task": "fix", "decision": "blocked"})
    assert verify(tmp_path / "audit.jsonl").entries == 4 and verify(tmp_path / "audit.jsonl").ok
