# shellcheck shell=bash
# The node of the local cluster, sourced by scripts/local-cluster: containerd (CRI), kubelet,
# kube-proxy (iptables) and kube-router (NetworkPolicy enforcement only) as processes on this
# machine, pods on a CNI bridge, CoreDNS and a default StorageClass as cluster add-ons.
#
# A node touches the host in ways an API server does not: a bridge, iptables chains and ipsets,
# mounts, cgroups, sysctls and a few fixed paths. `node_start` records what it is about to change
# (the sysctls' values, which fixed paths already existed) and `node_stop` puts each back, so a
# stopped cluster leaves the machine as it found it. Only one node can run per machine: the fixed
# paths and the bridge are machine-wide.

NODE_NAME=nexus-node
BRIDGE=nexus0
POD_CIDR=10.244.0.0/24
NODE_IP=10.244.0.1 # the bridge's address: pods reach the API server and CoreDNS through it
SERVICE_CIDR=10.0.0.0/24 # the API server's --service-cluster-ip-range
CLUSTER_DNS=10.0.0.10
NODE_RUN=/run/nexus-cluster # short: containerd's sockets live here (108-byte socket paths)
NODE_DIR=$STATE/node
CONTAINERD_SOCK=$NODE_RUN/containerd/containerd.sock
# Values the node's processes change; node_stop writes the recorded ones back.
NODE_SYSCTLS=(net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables vm.overcommit_memory kernel.panic
  kernel.panic_on_oops net.ipv4.conf.all.route_localnet kernel.keys.root_maxkeys kernel.keys.root_maxbytes
  net.netfilter.nf_conntrack_max net.netfilter.nf_conntrack_tcp_timeout_established net.netfilter.nf_conntrack_tcp_timeout_close_wait)
# Paths kubelet, containerd and CNI use whatever they are told; removed at stop unless they
# existed before the node started.
NODE_FIXED_PATHS=(/var/lib/kubelet /var/log/pods /var/log/containers /var/lib/cni /run/containerd /var/run/netns /opt/cni /etc/cni)
# Chain and ipset prefixes owned by kube-proxy, kubelet, CNI and kube-router.
NODE_CHAIN_RE='^(KUBE-|CNI-)'

node_preflight() {
  [[ $(id -u) == 0 ]] || die "a node needs root (containerd, kubelet, iptables); run as root or use NEXUS_CLUSTER_MODE=api"
  local b
  for b in containerd runc ctr iptables ip6tables ipset ip conntrack; do
    command -v "$b" >/dev/null || die "$b not found: apt-get install containerd runc containernetworking-plugins iptables ipset conntrack iproute2"
  done
  for b in kubelet kube-scheduler kube-proxy kube-router crictl; do
    [[ -x $BIN/$b ]] || die "$BIN/$b not found; run scripts/bootstrap first"
  done
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] ||
    die "CNI plugins not found in /usr/lib/cni: apt-get install containernetworking-plugins"
  [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]] || modprobe br_netfilter 2>/dev/null ||
    die "the kernel lacks br_netfilter (bridged pod traffic must pass iptables for Services and NetworkPolicies)"
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || die "the kernel lacks overlayfs (containerd's snapshotter)"
  iptables -t nat -S >/dev/null 2>&1 || die "iptables does not work here: $(iptables -t nat -S 2>&1 | head -n 1)"
  ipset list -n >/dev/null 2>&1 || die "ipset does not work here (kernel without ip_set): $(ipset list -n 2>&1 | head -n 1)"
  local owner
  owner=$(cat "$NODE_RUN/owner" 2>/dev/null || true)
  if [[ -n $owner && $owner != "$STATE" ]] && pgrep -f -- "--root-dir $owner/node/kubelet" >/dev/null; then
    die "the node of another cluster runs ($owner); stop it first: NEXUS_CLUSTER_DIR=$owner scripts/local-cluster stop"
  fi
}

# What the node is about to change, written once per start (a restart after a crash keeps the
# first record: the values from before any node ran).
node_record_host() {
  [[ -f $RUN/host.before ]] && return 0
  local s p
  {
    for s in "${NODE_SYSCTLS[@]}"; do
      [[ -e /proc/sys/${s//.//} ]] && echo "sysctl $s $(sysctl -n "$s")"
    done
    for p in "${NODE_FIXED_PATHS[@]}"; do [[ -e $p ]] && echo "path $p"; done
    [[ -d /sys/fs/cgroup/cpu/kubepods || -d /sys/fs/cgroup/kubepods ]] && echo "cgroup kubepods"
    true
  } >"$RUN/host.before.tmp"
  mv "$RUN/host.before.tmp" "$RUN/host.before"
}

node_network_up() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
  fi
  ip addr replace "$NODE_IP/${POD_CIDR#*/}" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
  mkdir -p "$NODE_DIR/cni"
  sed -e "s|@BRIDGE@|$BRIDGE|g" -e "s|@POD_CIDR@|$POD_CIDR|g" -e "s|@NODE_IP@|$NODE_IP|g" -e "s|@RUN@|$NODE_RUN|g" \
    "$ROOT/scripts/lib/local-node/cni.conflist" >"$NODE_DIR/cni/10-nexus.conflist"
}

node_start_containerd() {
  mkdir -p "$NODE_RUN/containerd" "$NODE_DIR/containerd"
  echo "$STATE" >"$NODE_RUN/owner"
  local pause
  pause=$(bash "$ROOT/scripts/images" list pause | awk '{print $2}') || die "scripts/images list pause failed"
  sed -e "s|@ROOT@|$NODE_DIR/containerd|g" -e "s|@RUN@|$NODE_RUN/containerd|g" -e "s|@SOCK@|$CONTAINERD_SOCK|g" \
    -e "s|@CNI_CONF@|$NODE_DIR/cni|g" -e "s|@PAUSE@|$pause|g" \
    "$ROOT/scripts/lib/local-node/containerd.toml" >"$NODE_DIR/containerd.toml"
  launch containerd containerd --config "$NODE_DIR/containerd.toml"
  local i
  for ((i = 0; i < 100; i++)); do
    ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1 && break
    alive containerd containerd || { tail -n 20 "$LOGDIR/containerd.log" >&2; die "containerd exited"; }
    sleep 0.2
  done
  ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1 || die "containerd did not answer (log: $LOGDIR/containerd.log)"
  node_import_images
}

node_import_images() {
  say "importing the images into the node ..."
  bash "$ROOT/scripts/images" import --address "$CONTAINERD_SOCK" >>"$LOGDIR/images.log" 2>&1 ||
    { tail -n 20 "$LOGDIR/images.log" >&2; die "importing the images failed (log: $LOGDIR/images.log)"; }
}

# A client certificate signed by the cluster CA: node_cert NAME SUBJECT.
node_cert() {
  [[ -f $PKI/$1.crt ]] && return 0
  (
    cd "$PKI" || exit 1
    umask 077
    openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -out "$1.crt" \
      -extfile <(printf '%s\n' "extendedKeyUsage=clientAuth" "keyUsage=critical,digitalSignature,keyEncipherment") 2>/dev/null
    rm -f "$1.csr" ca.srl
  )
}

# kubeconfig_for NAME: a kubeconfig with NAME's client certificate, for the node's processes.
kubeconfig_for() {
  local out=$STATE/$1.kubeconfig
  sed -e "s|client-certificate-data: .*|client-certificate-data: $(base64 -w0 <"$PKI/$1.crt")|" \
    -e "s|client-key-data: .*|client-key-data: $(base64 -w0 <"$PKI/$1.key")|" "$KUBECONFIG_OUT" >"$out"
  chmod 600 "$out"
  echo "$out"
}

node_start_kubelet() {
  node_cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME"
  mkdir -p "$NODE_DIR/kubelet"
  sed -e "s|@CA@|$PKI/ca.crt|g" -e "s|@SOCK@|$CONTAINERD_SOCK|g" -e "s|@DNS@|$CLUSTER_DNS|g" -e "s|@NODE_IP@|$NODE_IP|g" \
    -e "s|@POD_CIDR@|$POD_CIDR|g" \
    "$ROOT/scripts/lib/local-node/kubelet.yaml" >"$NODE_DIR/kubelet.yaml"
  launch kubelet "$BIN/kubelet" --config "$NODE_DIR/kubelet.yaml" --kubeconfig "$(kubeconfig_for kubelet)" \
    --root-dir "$NODE_DIR/kubelet" --cert-dir "$NODE_DIR/kubelet-pki" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP"
}

node_start_kube_proxy() {
  node_cert kube-proxy "/CN=system:kube-proxy"
  sed -e "s|@KUBECONFIG@|$(kubeconfig_for kube-proxy)|g" -e "s|@NODE@|$NODE_NAME|g" -e "s|@POD_CIDR@|$POD_CIDR|g" \
    "$ROOT/scripts/lib/local-node/kube-proxy.yaml" >"$NODE_DIR/kube-proxy.yaml"
  launch kube-proxy "$BIN/kube-proxy" --config "$NODE_DIR/kube-proxy.yaml"
}

# After the node registered: kube-router finds its node by name at start.
node_start_kube_router() {
  # kube-router reads pods, namespaces and policies cluster-wide; the admin identity keeps the
  # local cluster free of an RBAC setup that only this process would use.
  launch kube-router "$BIN/kube-router" --kubeconfig "$KUBECONFIG_OUT" --hostname-override "$NODE_NAME" \
    --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
    --service-cluster-ip-range "$SERVICE_CIDR" --metrics-port 0 --health-port 0 --iptables-sync-period 30s
}

node_wait_ready() {
  local i
  say "waiting for node $NODE_NAME ..."
  for ((i = 0; i < 120; i++)); do
    [[ $(kubectl --kubeconfig "$KUBECONFIG_OUT" get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]] && return 0
    alive kubelet kubelet || { tail -n 30 "$LOGDIR/kubelet.log" >&2; die "kubelet exited (log: $LOGDIR/kubelet.log)"; }
    sleep 1
  done
  tail -n 30 "$LOGDIR/kubelet.log" >&2
  die "node $NODE_NAME not Ready after 120s (log: $LOGDIR/kubelet.log)"
}

# CoreDNS as the cluster's DNS and a default StorageClass backed by volumes in the state folder.
node_addons() {
  local coredns
  coredns=$(bash "$ROOT/scripts/images" list coredns | awk '{print $2}') || die "scripts/images list coredns failed"
  sed -e "s|@COREDNS@|$coredns|g" -e "s|@DNS@|$CLUSTER_DNS|g" "$ROOT/scripts/lib/local-node/addons.yaml" |
    kubectl --kubeconfig "$KUBECONFIG_OUT" apply -f - >>"$LOGDIR/addons.log" 2>&1 ||
    { tail -n 20 "$LOGDIR/addons.log" >&2; die "applying the cluster add-ons failed"; }
  node_volumes
  kubectl --kubeconfig "$KUBECONFIG_OUT" -n kube-system rollout status deployment/coredns --timeout=120s >>"$LOGDIR/addons.log" 2>&1 ||
    { tail -n 20 "$LOGDIR/addons.log" >&2; die "CoreDNS did not become Ready (log: $LOGDIR/addons.log)"; }
}

# Static hostPath volumes for the default StorageClass (no provisioner runs here). A volume
# whose claim was deleted is wiped and offered again, so destroy-and-up cycles do not run out.
NODE_VOLUMES=12
node_volumes() {
  local i name phase
  for ((i = 1; i <= NODE_VOLUMES; i++)); do
    name=nexus-local-$i
    phase=$(kubectl --kubeconfig "$KUBECONFIG_OUT" get pv "$name" -o 'jsonpath={.status.phase}' 2>/dev/null || true)
    if [[ $phase == Released || $phase == Failed ]]; then
      kubectl --kubeconfig "$KUBECONFIG_OUT" delete pv "$name" --wait=true >>"$LOGDIR/addons.log" 2>&1 || true
      phase=""
    fi
    [[ -n $phase ]] && continue
    rm -rf "$NODE_DIR/volumes/$name"
    # World-writable: a hostPath volume gets no fsGroup ownership, and pods run as non-root UIDs.
    mkdir -p "$NODE_DIR/volumes/$name" && chmod 1777 "$NODE_DIR/volumes/$name"
    sed -e "s|@NAME@|$name|g" -e "s|@PATH@|$NODE_DIR/volumes/$name|g" -e "s|@NODE@|$NODE_NAME|g" \
      "$ROOT/scripts/lib/local-node/volume.yaml" | kubectl --kubeconfig "$KUBECONFIG_OUT" apply -f - >>"$LOGDIR/addons.log" 2>&1 ||
      die "creating volume $name failed (log: $LOGDIR/addons.log)"
  done
}

node_start() {
  node_start_containerd
  node_start_kubelet
  node_start_kube_proxy
  node_wait_ready
  node_start_kube_router
  node_addons
  local c
  for c in containerd kubelet kube-proxy kube-router kube-scheduler; do
    alive "$c" "$c" || { tail -n 20 "$LOGDIR/$c.log" >&2; die "$c exited (log: $LOGDIR/$c.log)"; }
  done
}

# ---------------------------------------------------------------------------------------------
# Stop: every pod sandbox through CRI (so CNI releases addresses and veths), then the processes,
# then what they left on the host.

node_remove_pods() {
  [[ -S $CONTAINERD_SOCK ]] || return 0
  alive containerd containerd || return 0
  "$BIN/crictl" --runtime-endpoint "unix://$CONTAINERD_SOCK" --timeout 30s rmp --all --force >>"$LOGDIR/stop.log" 2>&1 || true
}

node_cleanup_iptables() {
  local cmd table chain
  for cmd in iptables ip6tables; do
    for table in filter nat mangle raw; do
      # Rules in any chain that jump to an owned chain, then the owned chains themselves.
      "$cmd" -t "$table" -S 2>/dev/null | grep -E -- "^-A .* -j (KUBE-|CNI-)" | while read -r line; do
        # The rule as iptables printed it, quoted comments included, back into words.
        mapfile -t rule < <(xargs printf '%s\n' <<<"${line/#-A/-D}")
        "$cmd" -t "$table" "${rule[@]}" 2>/dev/null || true
      done || true
      "$cmd" -t "$table" -S 2>/dev/null | awk '$1 == "-N" {print $2}' | grep -E "$NODE_CHAIN_RE" | while read -r chain; do
        "$cmd" -t "$table" -F "$chain" 2>/dev/null || true
      done || true
      "$cmd" -t "$table" -S 2>/dev/null | awk '$1 == "-N" {print $2}' | grep -E "$NODE_CHAIN_RE" | while read -r chain; do
        "$cmd" -t "$table" -X "$chain" 2>/dev/null || true
      done || true
    done
  done
  ipset list -n 2>/dev/null | grep -E '^(KUBE-|kube-router|inet6:KUBE-)' | while read -r set; do ipset destroy "$set" 2>/dev/null || true; done || true
  # kube-proxy 1.35 also keeps a hint table in nftables.
  if command -v nft >/dev/null; then
    nft list tables 2>/dev/null | awk '$3 ~ /^kube-proxy$/ {print $2, $3}' | while read -r family name; do nft delete table "$family" "$name" 2>/dev/null || true; done || true
  fi
}

node_unmount() {
  local prefix m
  for prefix in "$NODE_DIR" "$NODE_RUN" /run/containerd /var/run/netns /run/netns /var/lib/kubelet; do
    findmnt -rn -o TARGET | grep -F -- "$prefix" | sort -r | while read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done || true
  done
}

node_restore_host() {
  local kind a b
  [[ -f $RUN/host.before ]] || return 0
  while read -r kind a b; do
    if [[ $kind == sysctl ]]; then sysctl -qw "$a=$b" 2>/dev/null || true; fi
  done <"$RUN/host.before"
  for a in "${NODE_FIXED_PATHS[@]}"; do
    grep -qxF "path $a" "$RUN/host.before" || rm -rf "$a"
  done
  if ! grep -qx 'cgroup kubepods' "$RUN/host.before"; then
    find /sys/fs/cgroup -maxdepth 2 -type d -name kubepods -print0 2>/dev/null |
      while IFS= read -r -d '' a; do find "$a" -depth -type d -exec rmdir {} + 2>/dev/null || true; done || true
  fi
  rm -f "$RUN/host.before"
}

node_stop() {
  node_remove_pods
}

# After every process is gone.
node_stop_host() {
  # Shims outlive containerd when a container could not be removed.
  pkill -KILL -f -- "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" 2>/dev/null || true
  node_unmount
  "$BIN/kube-proxy" --cleanup >>"$LOGDIR/stop.log" 2>&1 || true
  "$BIN/kube-router" --cleanup-config >>"$LOGDIR/stop.log" 2>&1 || true
  node_cleanup_iptables
  ip link del "$BRIDGE" 2>/dev/null || true
  node_restore_host
  rm -rf "$NODE_RUN"
}
