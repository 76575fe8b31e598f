# shellcheck shell=bash disable=SC2034 # read by scripts/images
# Alertmanager from Debian 12. The default arguments are those of the upstream image; the stack
# passes its own --config.file, --storage.path and cluster flags.
KIND=debian
PACKAGES=(prometheus-alertmanager)
TAG_PACKAGE=prometheus-alertmanager
TAG_SUFFIX=-deb12
DESCRIPTION="Alertmanager from the Debian 12 package prometheus-alertmanager"
ENTRYPOINT=(/usr/bin/prometheus-alertmanager)
CMD=(--config.file=/etc/alertmanager/alertmanager.yml --storage.path=/alertmanager)
DIRS=(/alertmanager:0777 /etc/alertmanager:0755)
WORKDIR=/alertmanager
PORTS=(9093/tcp 9094/tcp)
USER_ID=65534:65534
