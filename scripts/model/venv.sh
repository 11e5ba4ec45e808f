# Sourced by convert.sh and convert-jar.sh: the converter's Python venv outside the tree (VENV, default
# ~/.cache/loopwright/model-venv) with the pinned versions of requirements.txt. Sets VENV; needs ROOT.
VENV="${VENV:-$HOME/.cache/loopwright/model-venv}"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet -r "$ROOT/scripts/model/requirements.txt"
