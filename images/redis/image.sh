# shellcheck shell=bash disable=SC2034 # read by scripts/images
# Redis server from Debian 12, with a configuration for a pod: data in /data, reachable on the
# pod network. Arguments (Kubernetes `args`) follow the configuration file, so `--maxmemory 100mb`
# overrides it.
KIND=debian
PACKAGES=(redis-server)
TAG_PACKAGE=redis-server
TAG_SUFFIX=-deb12
DESCRIPTION="Redis from the Debian 12 package redis-server"
FILES=(redis.conf:/etc/redis/nexus.conf:0644)
DIRS=(/data:0777)
WORKDIR=/data
ENTRYPOINT=(redis-server /etc/redis/nexus.conf)
PORTS=(6379/tcp)
USER_ID=999:999
ACCOUNTS=(redis:999:999:/data)
REMOVE=(etc/redis/redis.conf etc/redis/sentinel.conf)
