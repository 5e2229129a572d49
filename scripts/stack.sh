#!/usr/bin/env bash
# `npm run up` / `npm run down`: the whole local stack. up installs what is missing, starts
# Redis and PostgreSQL if they are not running, Asterisk 22 in its chroot and the
# controller, places a test call to 12345, prints today's report with that call in it, and
# how to register a softphone.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
local_dir="$root/.rexian"
envfile="$local_dir/local.env"
pidfile="$local_dir/controller.pid"
logfile="$local_dir/controller.log"

secret() { head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20; }

load_env() {
  mkdir -p "$local_dir"
  if [[ ! -f "$envfile" ]]; then
    umask 077
    cat >"$envfile" <<ENV
# Local secrets for this machine's stack, made by scripts/stack.sh. Not committed.
REXIAN_ARI_PASSWORD=$(secret)
REXIAN_AMI_PASSWORD=$(secret)
REXIAN_AGENT_SIP_SECRET=$(secret)
REXIAN_ADMIN_TOKEN=$(secret)$(secret)
ENV
  fi
  # Files made by an older rexian: add what is new.
  grep -q '^REXIAN_AGENT_SIP_SECRET=' "$envfile" || echo "REXIAN_AGENT_SIP_SECRET=$(secret)" >>"$envfile"
  grep -q '^REXIAN_ADMIN_TOKEN=' "$envfile" || echo "REXIAN_ADMIN_TOKEN=$(secret)$(secret)" >>"$envfile"
  # Passwords of the two people the local stack signs in: agent 1001 and an admin.
  grep -q '^REXIAN_LOCAL_AGENT_PASSWORD=' "$envfile" || echo "REXIAN_LOCAL_AGENT_PASSWORD=$(secret)" >>"$envfile"
  grep -q '^REXIAN_LOCAL_ADMIN_PASSWORD=' "$envfile" || echo "REXIAN_LOCAL_ADMIN_PASSWORD=$(secret)" >>"$envfile"
  set -a
  # shellcheck disable=SC1090
  source "$envfile"
  set +a
  chroot_dir=$(bash scripts/asterisk-chroot.sh --print-dir)
  export REXIAN_PROMPTS_DIR="$chroot_dir/var/lib/rexian/prompts"
  export REXIAN_PROMPTS_ASTERISK_DIR=/var/lib/rexian/prompts
  http_port=${REXIAN_HTTP_PORT:-3000}
  http_host=${REXIAN_HTTP_HOST:-127.0.0.1}
  [[ "$http_host" == 0.0.0.0 ]] && http_host=127.0.0.1
  sip_port=${REXIAN_SIP_PORT:-5060}
}

controller_running() { [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

up() {
  [[ $(id -u) == 0 ]] || { echo "rexian: npm run up needs root (apt, chroot); run it as root or with sudo" >&2; exit 1; }
  bash scripts/install-deps.sh
  load_env
  node bin/rexian.js asterisk up --name local
  if controller_running; then
    echo "rexian: controller already running (pid $(cat "$pidfile")); restarting it"
    kill "$(cat "$pidfile")"; sleep 1
  fi
  nohup node --import tsx src/main.ts >>"$logfile" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$http_port/readyz" >/dev/null 2>&1 && break
    controller_running || { echo "rexian: the controller exited; see $logfile" >&2; tail -20 "$logfile" >&2; exit 1; }
    sleep 0.2
  done
  curl -fsS "http://127.0.0.1:$http_port/readyz" >/dev/null || { echo "rexian: controller not ready; see $logfile" >&2; exit 1; }
  echo "rexian: controller ready on http://127.0.0.1:$http_port (pid $(cat "$pidfile"), log $logfile)"
  # Sign-in for the pages: agent 1001 and an admin (updating them again is harmless).
  node bin/rexian.js person add 1001 --role agent --agent 1001 --password "$REXIAN_LOCAL_AGENT_PASSWORD" >/dev/null
  node bin/rexian.js person add admin --role admin --password "$REXIAN_LOCAL_ADMIN_PASSWORD" >/dev/null

  if [[ "${REXIAN_SKIP_TEST_CALL:-}" != 1 ]]; then
    echo "rexian: placing a test call to 12345 with SIPp (12 s) …"
    lines_before=$(wc -l <"$logfile")
    if sipp "127.0.0.1:$sip_port" -sf test/sipp/citizen-hangs-up-after-12s.xml -s 12345 -key caller 13800138000 \
         -i 127.0.0.1 -p 15099 -mi 127.0.0.1 -mp 16000 -m 1 -nostdin -timeout 40s -timeout_error >/dev/null 2>&1 \
       && tail -n +"$((lines_before + 1))" "$logfile" | grep '"msg":"prompt finished"' | grep -q '"node":"greeting"'; then
      echo "rexian: test call answered, welcome played to its end, caller went on to the menu ✓"
    else
      echo "rexian: the test call failed; see $logfile" >&2; exit 1
    fi
    # The call's record goes through the outbox into PostgreSQL; today's report shows it.
    today=$(TZ=Asia/Shanghai date +%F)
    report=""
    for _ in $(seq 50); do
      report=$(curl -fsS -H "authorization: Bearer $REXIAN_ADMIN_TOKEN" \
        "http://127.0.0.1:$http_port/api/reports/daily?date=$today&by=line&format=csv" 2>/dev/null) || true
      grep -q '^total,[1-9]' <<<"$report" && break
      sleep 0.2
    done
    grep -q '^total,[1-9]' <<<"$report" || { echo "rexian: the test call's record did not reach PostgreSQL; see $logfile" >&2; exit 1; }
    echo "rexian: today's report by line (GET /api/reports/daily?date=$today&by=line&format=csv):"
    grep -v '^#' <<<"$report" | sed 's/^\xEF\xBB\xBF//' | cut -d, -f1-10
  fi
  cat <<MSG

The pages (sign in as a person; the passwords are in .rexian/local.env):
  agent desk     http://$http_host:$http_port/agent        name 1001   password $REXIAN_LOCAL_AGENT_PASSWORD
  supervisor     http://$http_host:$http_port/supervisor
  ops console    http://$http_host:$http_port/ops          name admin  password $REXIAN_LOCAL_ADMIN_PASSWORD
Add people:      node bin/rexian.js person add NAME --role agent|supervisor|ops|admin [--agent ID] [--teams a,b]

Register a SIP softphone (e.g. Linphone, MicroSIP, baresip) on this machine as an agent
from sip-config/agents.yaml:
  server    127.0.0.1:$sip_port (UDP or TCP)
  user      agent-1001
  password  $(node bin/rexian.js agent password 1001)
Then log in and get ready for calls (the admin token is in .rexian/local.env):
  curl -X POST -H "authorization: Bearer \$REXIAN_ADMIN_TOKEN" -H 'content-type: application/json' \\
       -d '{"ready":true}' http://127.0.0.1:$http_port/api/agents/1001/login
Live queue figures:  curl -H "authorization: Bearer \$REXIAN_ADMIN_TOKEN" http://127.0.0.1:$http_port/api/queues
Citizens' calls come from the carrier address (127.0.0.1 here); to play citizen, dial 12345
from SIPp:  sipp 127.0.0.1:$sip_port -sf test/sipp/citizen-hangs-up-after-12s.xml -s 12345 -key caller 13800138000 -m 1
Flows:      node bin/rexian.js flow lint ivr-flows   (edits in ivr-flows/ apply without a restart)
Stop everything with: npm run down
MSG
}

down() {
  load_env
  if controller_running; then
    kill "$(cat "$pidfile")"
    for _ in $(seq 50); do controller_running || break; sleep 0.2; done
    echo "rexian: controller stopped"
  fi
  rm -f "$pidfile"
  node bin/rexian.js asterisk down --name local
  bash scripts/services.sh stop
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
