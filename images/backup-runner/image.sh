# shellcheck shell=bash disable=SC2034 # read by scripts/images
# What the backup and restore scripts of components/builders/backup.ts and restore.ts call: sh,
# date, gzip, tar, find, grep, sed, xargs and friends, pg_dump/psql (PostgreSQL 15 client),
# redis-cli, redis-server (a restore loads a snapshot into a private server on the pod's loopback
# and moves its keys to the target), and the aws CLI for S3 (Debian's awscli, v2). The tag names
# the pg_dump version, the tool whose version matters most: a dump restores into a server of the
# same or a newer major version.
KIND=debian
PACKAGES=(bash dash coreutils findutils grep gzip sed tar postgresql-client-15 redis-tools redis-server awscli ca-certificates)
# postgresql-client-common only holds the perl wrappers of /usr/bin; PATH has the real binaries.
STUB=(postgresql-client-common)
TAG_PACKAGE=postgresql-client-15
TAG_PREFIX=pg
TAG_SUFFIX=-deb12
DESCRIPTION="NEXUS backup runner on Debian 12: pg_dump/psql 15, redis-cli, redis-server, aws CLI, POSIX tools"
CMD=(/bin/bash)
# HOME: the aws CLI looks for ~/.aws; the root filesystem is read-only, /tmp is writable.
ENV=(
  PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  HOME=/tmp
  PYTHONDONTWRITEBYTECODE=1
)
USER_ID=65532:65532
