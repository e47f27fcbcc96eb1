"""Reference shard assignments for `score --shard I/N` (Tests/JudgePanelTests/ShardTests.swift).

An item belongs to shard int.from_bytes(sha256(id.encode("utf-8")).digest()[:8], "big") % N.
Writes fixtures/reference/shard_partition.json.
"""
import hashlib
import json
import os

ids = ["1", "2", "item-0001", "pandalm-17", "x", "", "naïve-é", "日本語", "a/b", "9999999"]
counts = [1, 2, 3, 4, 7, 16, 1000]
rows = []
for i in ids:
    h = int.from_bytes(hashlib.sha256(i.encode("utf-8")).digest()[:8], "big")
    rows.append({"id": i, "u64": str(h), "shard": {str(n): h % n for n in counts}})
out = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "reference", "shard_partition.json")
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    json.dump(rows, f, ensure_ascii=False, indent=1, sort_keys=True)
    f.write("\n")
