#!/usr/bin/env bash
# Starts Redis and PostgreSQL where they are not running (and remembers what it started,
# so `services.sh stop` stops only that). Creates the rexian database.
set -euo pipefail
state="${XDG_STATE_HOME:-$HOME/.local/state}/rexian"
mkdir -p "$state"

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }
pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q >/dev/null 2>&1; }

ensure() {
  if ! redis_up; then
    echo "rexian: starting Redis on 127.0.0.1:6379" >&2
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/rexian.log --pidfile "$state/redis.pid"
    touch "$state/started-redis"
    for _ in $(seq 50); do redis_up && break; sleep 0.1; done
    redis_up || { echo "rexian: Redis did not start (see /var/log/redis/rexian.log)" >&2; exit 1; }
  fi
  if ! pg_up; then
    echo "rexian: starting PostgreSQL on 127.0.0.1:5432" >&2
    cluster=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
    if [[ -z "$cluster" ]]; then
      pg_createcluster "$(ls /usr/lib/postgresql | sort -V | tail -1)" main >/dev/null
      cluster=$(ls /etc/postgresql | sort -V | tail -1)
    fi
    pg_ctlcluster --skip-systemctl-redirect "$cluster" main start
    touch "$state/started-postgres"
    for _ in $(seq 100); do pg_up && break; sleep 0.1; done
    pg_up || { echo "rexian: PostgreSQL did not start" >&2; exit 1; }
  fi
  if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1 from pg_database where datname='rexian'" 2>/dev/null | grep -q 1; then
    psql -h 127.0.0.1 -U postgres -d postgres -qc 'create database rexian' >/dev/null 2>&1 \
      || su postgres -c "createdb rexian" >/dev/null 2>&1 || true
  fi
}

stop() {
  if [[ -f "$state/started-redis" ]]; then
    redis-cli -h 127.0.0.1 -p 6379 shutdown nosave >/dev/null 2>&1 || true
    rm -f "$state/started-redis"
  fi
  if [[ -f "$state/started-postgres" ]]; then
    cluster=$(ls /etc/postgresql | sort -V | tail -1)
    pg_ctlcluster --skip-systemctl-redirect "$cluster" main stop || true
    rm -f "$state/started-postgres"
  fi
}

case "${1:-ensure}" in
  ensure) ensure ;;
  stop) stop ;;
  *) echo "usage: $0 ensure|stop" >&2; exit 2 ;;
esac
