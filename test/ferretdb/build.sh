#!/usr/bin/env bash
# Builds FerretDB v1.24.2 (SQLite backend) from the Go module proxy into .cache/bin/ferretdb and
# prints its path. The wrapper module in this folder depends on FerretDB's embeddable package, which
# avoids the start-up panic of `go install …/cmd/ferretdb@v1.24.2` (FerretDB#2982).
# The binary is cached per source hash under ${CHANGEGATE_CACHE_DIR:-~/.cache/changegate}, so a fresh
# clone on the same machine reuses it; Go's own module and build caches make a rebuild quick.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/.cache/bin/ferretdb"
key=$(cat "$here/go.mod" "$here/go.sum" "$here/main.go" "$here/build.sh" | sha256sum | cut -c1-16)
cache_dir="${CHANGEGATE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/changegate}"
cached="$cache_dir/ferretdb-$key"

if [ -x "$out" ] && [ "$(cat "$out.key" 2>/dev/null || true)" = "$key" ]; then
  echo "$out"
  exit 0
fi
mkdir -p "$(dirname "$out")" "$cache_dir"
if [ ! -x "$cached" ]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "FerretDB is not built yet and Go is not installed. Install Go >= 1.24 (https://go.dev/dl/)," >&2
    echo "or set MONGODB_URI to a MongoDB server." >&2
    exit 1
  fi
  started=$SECONDS
  echo "Building FerretDB v1.24.2 (one time, about a minute)…" >&2
  echo "[1/3] downloading FerretDB's sources from the Go module proxy…" >&2
  # One-line fix to FerretDB v1.24.2's SQLite backend: it looks documents up by _id with the
  # expression  _ferretdb_sjson->'$._id'  while the unique _id index it creates is on
  #  _ferretdb_sjson->"_id". SQLite only uses an expression index for the identical expression, so
  # every findById/updateOne({_id}) scanned and JSON-parsed the whole table. Both expressions give
  # the same value; the patched one matches the index (EXPLAIN QUERY PLAN: SEARCH … USING INDEX).
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$here" && go mod download github.com/FerretDB/FerretDB)
  src=$(cd "$here" && go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)
  cp -r "$src" "$work/ferretdb" && chmod -R u+w "$work/ferretdb"
  meta="$work/ferretdb/internal/backends/sqlite/metadata/metadata.go"
  sed -i "s|IDColumn = DefaultColumn + \"->'\$._id'\"|IDColumn = DefaultColumn + \"->\\\\\"_id\\\\\"\"|" "$meta"
  grep -q 'IDColumn = DefaultColumn + "->\\"_id\\""' "$meta" || { echo "could not patch $meta" >&2; exit 1; }
  echo "[2/3] patched the SQLite backend's _id lookups; downloading the other modules…" >&2
  mkdir "$work/wrapper" && cp "$here/go.mod" "$here/go.sum" "$here/main.go" "$work/wrapper/"
  (cd "$work/wrapper" && go mod edit -replace github.com/FerretDB/FerretDB=../ferretdb && go mod download)
  echo "[3/3] compiling…" >&2
  (cd "$work/wrapper" && CGO_ENABLED=0 go build -mod=mod -trimpath -o "$cached.tmp.$$" .)
  mv "$cached.tmp.$$" "$cached"
  echo "FerretDB built in $((SECONDS - started)) s: $cached" >&2
fi
cp "$cached" "$out.tmp.$$"
mv "$out.tmp.$$" "$out"
echo "$key" > "$out.key"
echo "$out"
