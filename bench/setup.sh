#!/usr/bin/env bash
# bench/setup.sh — install what bench/startup.sh and bench/net.sh compare
# agentbox against.
#
#   * Debian packages: hyperfine, bubblewrap, socat, ripgrep (socat and
#     ripgrep are what sandbox-runtime needs on Linux), curl (net.sh's
#     client). Installed with apt-get only when running as root; otherwise
#     the missing ones are named.
#   * Anthropic's sandbox-runtime (`srt`) from npm, into bench/node_modules
#     (never globally). It needs Node >= 22.12; when the system node is older,
#     the npm package node-linux-<arch>@22 (a plain package that ships the node
#     binary) is installed beside it and used to run srt.
#
# This is the only step of the benchmarks that needs the network.
# Environment:
#   SRT_VERSION   version or tag of @anthropic-ai/sandbox-runtime (default: latest)
#   NODE_MAJOR    major version of the local node to install when needed (default: 22)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRT_VERSION=${SRT_VERSION:-latest}
NODE_MAJOR=${NODE_MAJOR:-22}

say() { printf 'setup: %s\n' "$*"; }

# Is node at $1 at least 22.12?
node_ok() {
    local v
    v=$("$1" -p 'process.versions.node' 2>/dev/null) || return 1
    local major=${v%%.*} rest=${v#*.}
    local minor=${rest%%.*}
    (( major > 22 || (major == 22 && minor >= 12) ))
}

# --- Debian packages -------------------------------------------------------
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v bwrap     >/dev/null || missing+=(bubblewrap)
command -v socat     >/dev/null || missing+=(socat)
command -v rg        >/dev/null || missing+=(ripgrep)
command -v curl      >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        say "apt-get install ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        say "missing Debian packages: ${missing[*]} (not root: install them with 'apt-get install ${missing[*]}' as root)"
    fi
fi

# --- npm packages ----------------------------------------------------------
if ! command -v npm >/dev/null; then
    say "npm not found: cannot install @anthropic-ai/sandbox-runtime" >&2
    exit 1
fi

pkgs=("@anthropic-ai/sandbox-runtime@${SRT_VERSION}")
if ! node_ok "$(command -v node || echo node)"; then
    case $(uname -m) in
        x86_64)  arch=x64 ;;
        aarch64) arch=arm64 ;;
        *) say "no prebuilt node package for $(uname -m); install Node >= 22.12 yourself" >&2; exit 1 ;;
    esac
    # Not the `node` package: its binary arrives through a preinstall script,
    # which recent npm versions do not run unless approved. The
    # arch-specific package carries bin/node itself.
    pkgs+=("node-linux-${arch}@${NODE_MAJOR}")
fi

say "npm install --prefix $BENCH_DIR ${pkgs[*]}"
# --no-save/--no-package-lock: nothing but bench/node_modules is written.
# Every package is named in this one command, because a later `npm install`
# of only some of them would prune the others as extraneous.
npm install --prefix "$BENCH_DIR" --no-save --no-package-lock --no-audit --no-fund \
    --loglevel=error "${pkgs[@]}"

cli="$BENCH_DIR/node_modules/@anthropic-ai/sandbox-runtime/dist/cli.js"
[[ -f $cli ]] || { say "install finished but $cli is missing" >&2; exit 1; }
node_bin=$(command -v node || true)
node_ok "${node_bin:-node}" || node_bin="$BENCH_DIR/node_modules/.bin/node"
node_ok "$node_bin" || { say "no Node >= 22.12 after install ($node_bin)" >&2; exit 1; }
say "srt $("$node_bin" "$cli" --version) with node $("$node_bin" --version) ($node_bin)"
