#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite: owned by the postgres user (PostgreSQL refuses root),
# in a temporary directory, on a free loopback port, trusted from loopback only.
#   tools/postgres.sh start DIR   prints the server's connection string (Host=127.0.0.1;Port=N;Username=postgres)
#   tools/postgres.sh stop DIR    stops it and removes DIR
set -euo pipefail
command="${1:?start|stop}"; dir="${2:?directory}"
bin=$(dirname "$(command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb | tail -n 1)")
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$command" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=300 -c fsync=off" start >/dev/null
    echo "Host=127.0.0.1;Port=$port;Username=postgres;Maximum Pool Size=20"
    ;;
  stop)
    [ -d "$dir/data" ] && as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
