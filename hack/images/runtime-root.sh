#!/bin/sh
# Run inside a Node image's build stage: collects a root filesystem that holds Node.js and nothing
# else, for a `FROM scratch` runtime stage (as distroless images do): the node binary, the shared
# libraries it links, their Debian package records and licences (so image scanners see what is
# there), /etc/passwd with the numeric users the images run as, /etc/nsswitch.conf and /tmp. No
# shell, no package manager, no npm.
#
#   runtime-root.sh DIR
set -eu
root=$1
node=$(command -v node)

mkdir -p "$root/usr/local/bin" "$root/etc" "$root/tmp" "$root/var/lib/dpkg/status.d" "$root/usr/share/doc"
chmod 1777 "$root/tmp"
cp "$node" "$root/usr/local/bin/node"

# Every library at the path the dynamic loader asks for (ldd names them as the ELF records them).
ldd "$node" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
  package=$( (dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null) | head -n 1 | cut -d: -f1)
  if [ -n "$package" ] && [ ! -e "$root/var/lib/dpkg/status.d/$package" ]; then
    dpkg-query -s "$package" >"$root/var/lib/dpkg/status.d/$package"
    if [ -e "/usr/share/doc/$package/copyright" ]; then
      mkdir -p "$root/usr/share/doc/$package"
      cp "/usr/share/doc/$package/copyright" "$root/usr/share/doc/$package/copyright"
    fi
  fi
done
for licence in /usr/local/share/doc/node/LICENSE /usr/local/LICENSE; do
  if [ -e "$licence" ]; then
    mkdir -p "$root/usr/share/doc/node"
    cp "$licence" "$root/usr/share/doc/node/LICENSE"
    break
  fi
done
cp -L /etc/os-release "$root/etc/os-release"

# 65532 is the operator's user (distroless's "nonroot"), 10001 the assistant's; both numeric in the
# Dockerfiles so that runAsNonRoot can verify them.
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
assistant:x:10001:10001:assistant:/app:/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
nonroot:x:65532:
assistant:x:10001:
EOF
echo 'hosts: files dns' >"$root/etc/nsswitch.conf"
