#!/usr/bin/python3
"""Reads a weight file written by a generated trainer with plain NumPy (no
safetensors package), checks its header against the format and SPEC 3's
metadata, and recomputes the cancer example's predictions from the arrays:
they must equal the trainer's `predict` output.

usage: safetensors_numpy.py WEIGHTS.safetensors DATA.csv PREDICTIONS.csv
"""
import json
import struct
import sys

import numpy as np


def read(path):
    blob = open(path, "rb").read()
    (n,) = struct.unpack("<Q", blob[:8])
    assert n % 8 == 0, "header length is a multiple of 8"
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    meta = header.pop("__metadata__")
    for key in ("nnc_model", "nnc_signature", "nnc_version", "nnc_source_sha256", "seed", "epochs"):
        assert key in meta, "metadata has " + key
    tensors, end = {}, 0
    for name, info in header.items():
        assert info["dtype"] == "F32", name
        begin, stop = info["data_offsets"]
        assert begin == end, "tensors are contiguous"
        end = stop
        array = np.frombuffer(data[begin:stop], dtype="<f4")
        tensors[name] = array.reshape(info["shape"]).astype(np.float64)
    assert end == len(data), "no bytes after the last tensor"
    return meta, tensors


def main():
    weights, data_path, pred_path = sys.argv[1:4]
    meta, w = read(weights)
    assert meta["nnc_model"] == "cancer"
    x = np.loadtxt(data_path, delimiter=",", skiprows=1)[:, :30]
    x = (x - w["normalize_1.mean"]) / np.sqrt(w["normalize_1.variance"] + 1e-7)
    h = np.maximum(x @ w["dense_1.kernel"] + w["dense_1.bias"], 0)
    h = np.maximum(h @ w["dense_2.kernel"] + w["dense_2.bias"], 0)
    p = 1 / (1 + np.exp(-(h @ w["dense_3.kernel"] + w["dense_3.bias"])))
    expected = np.loadtxt(pred_path, delimiter=",", skiprows=1).reshape(p.shape)
    err = np.max(np.abs(p - expected) / np.maximum(np.abs(expected), 1e-6))
    print("numpy: %d tensors, max relative difference from predict %.2e" % (len(w), err))
    assert err < 1e-5, "NumPy's forward pass matches the trainer's predict"


if __name__ == "__main__":
    main()
