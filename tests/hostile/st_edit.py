#!/usr/bin/env python3
"""st_edit.py IN OUT KEY=VALUE... -- rewrite a safetensors file's
__metadata__ (KEY=  with an empty value deletes KEY), or, with a key of the
form tensor:NAME=VALUE, fill that F32/F64 tensor with VALUE (nan, inf, 1.5),
or tensor:NAME= to drop the tensor from the header. For the hostile-input
tests (tests/hostile.sh)."""
import json, struct, sys

src, dst, edits = sys.argv[1], sys.argv[2], sys.argv[3:]
raw = open(src, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
head = json.loads(raw[8:8 + n])
data = bytearray(raw[8 + n:])
meta = head.setdefault("__metadata__", {})
for e in edits:
    key, _, value = e.partition("=")
    if key.startswith("tensor:"):
        name = key[7:]
        if value == "":  # drop the tensor and its bytes, shifting the rest
            b, end = head.pop(name)["data_offsets"]
            del data[b:end]
            for t in head.values():
                if isinstance(t, dict) and "data_offsets" in t and t["data_offsets"][0] >= end:
                    t["data_offsets"] = [t["data_offsets"][0] - (end - b), t["data_offsets"][1] - (end - b)]
            continue
        t = head[name]
        fmt, size = ("<f", 4) if t["dtype"] == "F32" else ("<d", 8)
        b, end = t["data_offsets"]
        for o in range(b, end, size):
            data[o:o + size] = struct.pack(fmt, float(value))
    elif value == "":
        meta.pop(key, None)
    else:
        meta[key] = value
text = json.dumps(head).encode()
text += b" " * (-len(text) % 8)
open(dst, "wb").write(struct.pack("<Q", len(text)) + text + bytes(data))
