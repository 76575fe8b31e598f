# shellcheck shell=bash disable=SC2034 # read by scripts/images
# Prometheus from Debian 12 (2.42, with Debian's classic web UI). The default arguments are those
# of the upstream image; the stack passes its own --config.file and --storage.tsdb.path.
KIND=debian
PACKAGES=(prometheus)
TAG_PACKAGE=prometheus
TAG_SUFFIX=-deb12
DESCRIPTION="Prometheus from the Debian 12 package prometheus"
ENTRYPOINT=(/usr/bin/prometheus)
CMD=(--config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=/prometheus)
DIRS=(/prometheus:0777)
WORKDIR=/prometheus
PORTS=(9090/tcp)
USER_ID=65534:65534
# libjs-moment-timezone ships 200 MB of every past time-zone release as JSON; the UI loads only
# the bundled scripts and the latest data.
REMOVE=(
  'usr/share/javascript/moment-timezone/data/unpacked'
  'usr/share/javascript/moment-timezone/data/packed/20*'
  'usr/share/javascript/moment-timezone/data/meta/20*'
)
