#!/usr/bin/env bash
# Rebuild traceability_api/workspace/static/noble-curves-<v>.min.js: the browser signing bundle
# (secp256k1 from @noble/curves and keccak_256 from @noble/hashes, as window.nobleSign), from the
# npm registry with pinned versions, in a temporary directory (nothing is installed in the repo).
# @noble/curves 1.9.x is the line viem and ethers' successors use; audited, no dependencies but
# @noble/hashes.  esbuild makes one minified IIFE file (the workspace's CSP allows only our files).
set -euo pipefail
CURVES=1.9.7
ESBUILD=0.28.2
HERE="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$HERE/traceability_api/workspace/static"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
npm init -y >/dev/null
npm install --no-audit --no-fund "@noble/curves@$CURVES" "esbuild@$ESBUILD" >/dev/null
cat > entry.js <<'JS'
import { secp256k1 } from "@noble/curves/secp256k1";
import { keccak_256 } from "@noble/hashes/sha3";
window.nobleSign = { secp256k1: secp256k1, keccak_256: keccak_256 };
JS
node_modules/.bin/esbuild entry.js --bundle --minify --format=iife --target=es2019 --legal-comments=none \
  --banner:js="/*! @noble/curves $CURVES + @noble/hashes $(sed -n 's/.*"version": "\(.*\)".*/\1/p' node_modules/@noble/hashes/package.json) (c) Paul Miller, MIT: LICENSE-noble.txt */" \
  --outfile="$OUT/noble-curves-$CURVES.min.js"
{ echo "@noble/curves $CURVES:"; cat node_modules/@noble/curves/LICENSE; echo; echo "@noble/hashes:"; cat node_modules/@noble/hashes/LICENSE; } > "$OUT/LICENSE-noble.txt"
