#!/usr/bin/env bash
# Builds (once) a Debian unstable chroot holding Asterisk 22 from Debian's packages.
# Debian bookworm has no Asterisk, so we borrow sid's inside a chroot and run it there.
# Usage: scripts/asterisk-chroot.sh [--print-dir]
set -euo pipefail

CHROOT="${REXIAN_ASTERISK_CHROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/rexian/asterisk-sid}"
if [[ "${1:-}" == "--print-dir" ]]; then echo "$CHROOT"; exit 0; fi

fail() { echo "rexian: asterisk chroot: $*" >&2; exit 1; }

if [[ -x "$CHROOT/usr/sbin/asterisk" && -f "$CHROOT/.rexian-ready" ]]; then
  echo "$CHROOT"; exit 0
fi

[[ $(id -u) == 0 ]] || fail "must run as root (mmdebstrap and chroot need it); try: sudo $0"
if ! command -v mmdebstrap >/dev/null; then
  echo "rexian: installing mmdebstrap with apt" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >&2 \
    || fail "could not install mmdebstrap (apt-get install mmdebstrap)"
fi
parent=$(dirname "$CHROOT")
mkdir -p "$parent"
avail_mb=$(df -Pm "$parent" | awk 'NR==2 {print $4}')
(( avail_mb > 800 )) || fail "only ${avail_mb} MB free under $parent; the chroot needs about 350 MB plus room to unpack (800 MB)"

tmp="$CHROOT.partial"
rm -rf "$tmp"
echo "rexian: building the Asterisk chroot in $CHROOT (about a minute)" >&2
# Check-Valid-Until: the mirror's Release file may be older than its validity window here.
mmdebstrap --variant=apt --quiet \
  --aptopt='Acquire::Check-Valid-Until "false"' \
  --include=asterisk,asterisk-modules,asterisk-core-sounds-en,asterisk-moh-opsound-wav \
  sid "$tmp" >&2 || { rm -rf "$tmp"; fail "mmdebstrap failed (see above)"; }
"$tmp/usr/sbin/asterisk" -V >/dev/null 2>&1 || chroot "$tmp" /usr/sbin/asterisk -V >&2 || fail "asterisk does not run inside the new chroot"
rm -rf "$CHROOT"
mv "$tmp" "$CHROOT"
touch "$CHROOT/.rexian-ready"
echo "$CHROOT"
