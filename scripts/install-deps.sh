#!/usr/bin/env bash
# Installs what rexian's stack and tests need on a fresh Debian/Ubuntu machine (as root):
# Debian packages, node modules, the web pages (web/dist), and the Asterisk 22 chroot. Safe
# to run again. Debian's chromium is what the browser tests drive (playwright-core brings no
# browser of its own); iproute2's `ip netns` gives the browser-phone test its network.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pair in mmdebstrap:mmdebstrap sipp:sip-tester baresip:baresip espeak-ng:espeak-ng sox:sox \
            redis-server:redis-server psql:postgresql-client dot:graphviz chromium:chromium \
            ip:iproute2 redis-sentinel:redis-sentinel; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then need+=(postgresql); fi
# A CJK font so `rexian flow graph` can draw Chinese node labels.
[[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]] || need+=(fonts-wqy-microhei)
# The SIP edge (`rexian edge up`): Debian's Kamailio 5.6, its WebSocket and extra modules.
command -v kamailio >/dev/null 2>&1 || need+=(kamailio kamailio-websocket-modules kamailio-extra-modules)
if ((${#need[@]})); then
  [[ $(id -u) == 0 ]] || { echo "rexian: missing packages ${need[*]}; run as root to install them" >&2; exit 1; }
  echo "rexian: installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# The pages the controller serves at /agent, /supervisor, /ops (about 2 s).
npm run --silent build:web >/dev/null

bash scripts/asterisk-chroot.sh >/dev/null
bash scripts/services.sh ensure
