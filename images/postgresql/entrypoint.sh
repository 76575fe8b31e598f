#!/bin/bash
# Entrypoint of nexus.local/postgresql (Debian's PostgreSQL 15). It does, in essence, what the
# official postgres image's entrypoint does, so the registry's settings carry over:
#
#   POSTGRES_PASSWORD   password of POSTGRES_USER; required to initialise a new cluster
#   POSTGRES_USER       superuser created by initdb (default postgres)
#   POSTGRES_DB         database created after initdb (default POSTGRES_USER)
#   PGDATA              data directory (default /var/lib/postgresql/data); initialised when empty
#   POSTGRES_INITDB_ARGS  extra initdb arguments
#
# On first start it runs initdb (scram-sha-256 for every TCP connection, trust on the socket
# inside the container), creates the database, runs /docker-entrypoint-initdb.d/*.sql and *.sh,
# then execs postgres in the foreground (its arguments are those of the container, e.g.
# `postgres -c max_connections=50`). It runs as any non-root uid and writes only PGDATA, the
# socket folder and /tmp, so the root filesystem can be read-only.
set -Eeuo pipefail

log() { echo "postgres-entrypoint: $*" >&2; }

# Arguments starting with "-" are postgres options, as in the official image.
if [[ ${1:-} == -* ]]; then set -- postgres "$@"; fi
if [[ ${1:-} != postgres ]]; then exec "$@"; fi

if [[ $(id -u) == 0 ]]; then
  log "refusing to run as root: run the container as a non-root user (the image's user is 999)"
  exit 1
fi

export PGDATA=${PGDATA:-/var/lib/postgresql/data}
POSTGRES_USER=${POSTGRES_USER:-postgres}
POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}

# The socket goes to /var/run/postgresql when a volume makes it writable, else to /tmp.
socket_dir=/var/run/postgresql
if ! [[ -d $socket_dir && -w $socket_dir ]]; then socket_dir=/tmp; fi
export PGHOST=$socket_dir

init_cluster() {
  if [[ -z ${POSTGRES_PASSWORD:-} ]]; then
    log "PGDATA ($PGDATA) holds no database and POSTGRES_PASSWORD is not set: set it to initialise one"
    exit 1
  fi
  # initdb needs a user name for the current uid; a pod's runAsUser is usually not in
  # /etc/passwd, so nss_wrapper lends it one from files in /tmp.
  local nss=""
  if ! id -un >/dev/null 2>&1; then
    nss=$(mktemp -d /tmp/nss.XXXXXX)
    echo "postgres:x:$(id -u):$(id -g):PostgreSQL:$PGDATA:/bin/false" >"$nss/passwd"
    echo "postgres:x:$(id -g):" >"$nss/group"
  fi
  local pwfile
  pwfile=$(mktemp /tmp/pwfile.XXXXXX)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  log "initialising a new cluster in $PGDATA for user $POSTGRES_USER"
  # POSTGRES_INITDB_ARGS is split into words on purpose, as the official image does.
  # shellcheck disable=SC2086
  if [[ -n $nss ]]; then
    LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_PASSWD=$nss/passwd NSS_WRAPPER_GROUP=$nss/group \
      initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 ${POSTGRES_INITDB_ARGS:-}
  else
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 ${POSTGRES_INITDB_ARGS:-}
  fi
  rm -rf "$pwfile" "$nss"
  # Every TCP client authenticates with its password; the JIT is not in the image.
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  printf '%s\n' "" "# set by postgres-entrypoint" "listen_addresses = '*'" "jit = off" >>"$PGDATA/postgresql.conf"

  # A server on the socket only, for creating the database and running the init scripts.
  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=$socket_dir" start
  local psql=(psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc --username "$POSTGRES_USER")
  if [[ $POSTGRES_DB != postgres ]]; then
    "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    case $f in
      *.sql) log "running $f" && "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sh) log "running $f" && bash "$f" ;;
      *) if [[ -e $f ]]; then log "ignoring $f"; fi ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  log "initialisation done"
}

mkdir -p "$PGDATA"
chmod 0700 "$PGDATA" 2>/dev/null || true
if [[ ! -s $PGDATA/PG_VERSION ]]; then init_cluster; fi

# Before the container's own options, so that one of those can still override it.
exec "$1" -c "unix_socket_directories=$socket_dir" "${@:2}"
