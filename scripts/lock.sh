#!/usr/bin/env bash
# Refresh or check requirements.lock, the exact, hash-checked set of packages that scripts/setup.sh
# (and so CI) installs. pyproject.toml keeps the ranges the code supports; the lock says which
# release of each package is installed, so an upstream release changes nothing until someone
# refreshes the lock and commits it.
#
#   bash scripts/lock.sh                     re-resolve after a pyproject.toml change, keeping every
#                                            pin that still fits (minimal diff)
#   bash scripts/lock.sh --upgrade           move every package to its newest allowed release
#   bash scripts/lock.sh --upgrade-package rq[==3.0.1]   move only that package (repeatable)
#   bash scripts/lock.sh --check             fast offline check that the lock matches pyproject.toml
#                                            (scripts/setup.sh runs it; exit 1 and a message if not)
#
# Other options are passed on to pip-compile. The lock is resolved for the supported platform:
# Linux x86-64, CPython 3.11, with torch's CPU build (2.13.0+cpu). Refresh on such a machine that
# has the CPU wheel on pip's path: this machine class has it in /opt/wheels; elsewhere run
#   PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu bash scripts/lock.sh
# (add --upgrade-package torch to also record the hashes of that index's torch files; kept pins keep
# their recorded hashes). The script refuses a lock whose torch is not a +cpu build (that would pull
# several GB of CUDA packages) and leaves the lock unchanged on any failure.
#
# pip-tools runs from its own venv (LOCK_TOOLS_VENV, default: $TMPDIR/inspector-lock-tools), never
# from .venv; its versions are pinned below.
set -euo pipefail
cd "$(dirname "$0")/.."

LOCK=requirements.lock
PIP_TOOLS_VERSION=7.6.2
PIP_VERSION=26.3
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

# The fast check: pyproject.toml's dependency tables against the fingerprint and the pins in the
# lock. Needs only Python 3.11 (tomllib) and packaging (or the copy vendored in pip).
check_lock() {
    "$PYTHON" - "$LOCK" "$@" <<'PY'
import hashlib, json, re, sys, tomllib
try:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import Version
except ImportError:
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name
    from pip._vendor.packaging.version import Version

lock_path = sys.argv[1]
mode = sys.argv[2] if len(sys.argv) > 2 else "check"
with open("pyproject.toml", "rb") as f:
    pyproject = tomllib.load(f)
project = pyproject.get("project", {})
inputs = {
    "requires-python": project.get("requires-python"),
    "dependencies": project.get("dependencies", []),
    "optional-dependencies": project.get("optional-dependencies", {}),
    "build-system.requires": pyproject.get("build-system", {}).get("requires", []),
}
fingerprint = hashlib.sha256(json.dumps(inputs, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
if mode == "fingerprint":
    print(fingerprint)
    sys.exit(0)
if mode == "extra-inputs":
    # What pyproject.toml alone doesn't give pip-compile: pip itself, and the build backend, which
    # setup.sh's editable install uses from the venv (--no-build-isolation).
    print("\n".join(["pip", *inputs["build-system.requires"]]))
    sys.exit(0)

fix = "run `bash scripts/lock.sh` and commit requirements.lock"
try:
    text = open(lock_path, encoding="utf-8").read()
except FileNotFoundError:
    sys.exit(f"{lock_path} is missing: {fix}")
pins = {canonicalize_name(m[1]): m[2] for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", text, re.M)}
problems = []
torch = pins.get("torch")
if torch is not None and "+cpu" not in torch:
    problems.append(f"torch is pinned to {torch}, not a CPU build (+cpu)")
nvidia = sorted(n for n in pins if n.startswith("nvidia-"))
if nvidia:
    problems.append("CUDA packages in the lock: " + ", ".join(nvidia))
groups = [("dependencies", inputs["dependencies"]), ("build-system.requires", inputs["build-system.requires"])]
groups += [(f"optional-dependencies.{k}", v) for k, v in inputs["optional-dependencies"].items()]
for where, reqs in groups:
    for line in reqs:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        pin = pins.get(canonicalize_name(req.name))
        if pin is None:
            problems.append(f"{req} ({where}) has no pin in {lock_path}")
        elif not req.specifier.contains(Version(pin), prereleases=True):
            problems.append(f"{req} ({where}) is not satisfied by the pin {req.name}=={pin}")
m = re.search(r"^# pyproject-sha256: ([0-9a-f]{64})$", text, re.M)
if m is None or m[1] != fingerprint:
    problems.append("pyproject.toml's dependency tables changed since the lock was made")
if problems:
    print(f"{lock_path} does not match pyproject.toml:", file=sys.stderr)
    for p in problems:
        print(f"  - {p}", file=sys.stderr)
    print(f"To fix: {fix}.", file=sys.stderr)
    sys.exit(1)
PY
}

compile_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --check)
            check_lock check
            echo "$LOCK matches pyproject.toml"
            exit 0 ;;
        -h|--help)
            sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            exit 0 ;;
        *) compile_args+=("$1") ;;
    esac
    shift
done

"$PYTHON" - <<'PY'
import platform, sys
if sys.version_info[:2] != (3, 11) or platform.system() != "Linux" or platform.machine() != "x86_64":
    sys.exit(f"requirements.lock is resolved for CPython 3.11 on Linux x86-64; this is Python "
             f"{platform.python_version()} on {platform.system()} {platform.machine()} (set PYTHON=...)")
PY

TOOLS="${LOCK_TOOLS_VENV:-${TMPDIR:-/tmp}/inspector-lock-tools}"
if ! "$TOOLS/bin/pip-compile" --version 2>/dev/null | grep -q "version $PIP_TOOLS_VERSION\$" \
    || ! "$TOOLS/bin/python" -m pip --version 2>/dev/null | grep -q "^pip $PIP_VERSION "; then
    echo "pip-tools $PIP_TOOLS_VERSION → $TOOLS" >&2
    rm -rf "$TOOLS"
    "$PYTHON" -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install --quiet "pip==$PIP_VERSION"
    "$TOOLS/bin/python" -m pip install --quiet "pip-tools==$PIP_TOOLS_VERSION"
fi

# Compile into a copy of the current lock (pip-compile keeps the pins it finds there unless told
# to upgrade), check the result, then replace the lock in one move.
tmp="$(mktemp "$LOCK.XXXXXX")"
log="$(mktemp)"
trap 'rm -f "$tmp" "$tmp.new" "$log"' EXIT
[ -f "$LOCK" ] && cp "$LOCK" "$tmp"
# Besides pyproject.toml, pip-compile reads (stdin, "-") pip and build-system.requires, so that the
# lock pins pip and setuptools too; its "via -r -" notes are renamed after those.
# Its output (mostly build backends' warnings from reading sdists' metadata) is shown only if it fails.
echo "resolving (a minute when most pins stay, several when everything moves) ..." >&2
if ! check_lock extra-inputs | CUSTOM_COMPILE_COMMAND="bash scripts/lock.sh" "$TOOLS/bin/pip-compile" \
    --quiet --generate-hashes --all-extras --strip-extras --allow-unsafe \
    --no-emit-index-url --no-emit-find-links --no-emit-trusted-host --newline lf \
    --output-file "$tmp" "${compile_args[@]}" pyproject.toml - >"$log" 2>&1; then
    grep -v "^WARNING: Location 'file://.*' is ignored" "$log" >&2
    echo "pip-compile failed; $LOCK is unchanged" >&2
    exit 1
fi
sed -i 's/^\(    # via \|    #   \)-r -$/\1scripts\/lock.sh (pip, build-system.requires)/' "$tmp"

fingerprint="$(check_lock fingerprint)"
# The fingerprint of pyproject.toml's dependency tables goes under pip-compile's header.
awk -v fp="# pyproject-sha256: $fingerprint" '
    !done && !/^#/ { print "# The dependency tables of pyproject.toml this lock was made from (scripts/lock.sh --check):"; print fp; print "#"; done = 1 }
    !/^# pyproject-sha256: / && !/^# The dependency tables of pyproject.toml/ { print }
' "$tmp" > "$tmp.new" && mv "$tmp.new" "$tmp"
LOCK="$tmp" check_lock check
chmod 644 "$tmp"
mv "$tmp" "$LOCK"
rm -f "$log"
trap - EXIT
echo "$LOCK written ($(grep -c '^[a-z0-9]' "$LOCK") packages); review the diff and commit it" >&2
