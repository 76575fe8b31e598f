# shellcheck shell=bash disable=SC2034 # read by scripts/images
# PostgreSQL 15 from Debian 12, with an entrypoint that does what the official image's does in
# essence (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGDATA; see entrypoint.sh).
KIND=debian
# libnss-wrapper lets initdb run under a uid that /etc/passwd does not list (a pod's runAsUser).
PACKAGES=(postgresql-15 bash dash coreutils libnss-wrapper)
# The JIT (libllvm14, 130 MB with libz3-4) is left out and turned off (jit = off); the perl
# wrappers of postgresql-common are not needed: PATH has the real binaries.
STUB=(libllvm14 libz3-4 postgresql-common postgresql-client-common locales ssl-cert)
TAG_PACKAGE=postgresql-15
TAG_SUFFIX=-deb12
DESCRIPTION="PostgreSQL from the Debian 12 package postgresql-15, without the LLVM JIT"
FILES=(entrypoint.sh:/usr/local/bin/postgres-entrypoint:0755)
DIRS=(/var/lib/postgresql:0755 /run/postgresql:3777 /docker-entrypoint-initdb.d:0755)
REMOVE=('usr/lib/postgresql/15/lib/llvmjit*' 'usr/lib/postgresql/15/lib/bitcode')
ENTRYPOINT=(/usr/local/bin/postgres-entrypoint)
CMD=(postgres)
ENV=(
  PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  PGDATA=/var/lib/postgresql/data
  LANG=C.UTF-8
)
PORTS=(5432/tcp)
USER_ID=999:999
ACCOUNTS=(postgres:999:999:/var/lib/postgresql)
