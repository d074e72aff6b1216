#!/bin/sh
# Run inside an image's build stage after `npm ci --omit=dev`: removes what Node never loads at run
# time from node_modules, so the runtime layer carries code only. TypeScript sources and
# declarations, source maps and Markdown go; licences and package.json files stay. better-sqlite3
# keeps the prebuilt addon of this platform and drops the others, its C sources and its SQLite
# amalgamation (about 25 MB).
#
#   prune-node-modules.sh DIR...
set -eu
for dir in "$@"; do
  [ -d "$dir" ] || continue
  find "$dir" -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' -o -name '*.md' -o -name '*.markdown' \) -delete
  sqlite="$dir/better-sqlite3"
  if [ -d "$sqlite" ]; then
    target=$(node -p 'process.platform + "-" + process.arch')
    find "$sqlite/prebuilds" -type f ! -name "$target.node" -delete
    rm -rf "$sqlite/deps" "$sqlite/src" "$sqlite/binding.gyp"
  fi
done
