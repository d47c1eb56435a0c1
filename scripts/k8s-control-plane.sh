#!/usr/bin/env bash
# A real Kubernetes control plane for ember's tests, built from the Go module
# proxy and run on loopback: etcd, kube-apiserver, kube-controller-manager
# (ownerReference garbage collection, service-account tokens) and
# kube-scheduler. Pods run on ember's own test node agent (`ember-test-node`).
#
#   scripts/k8s-control-plane.sh build          build (once) into ~/.cache/ember/k8s-<version>/bin
#   scripts/k8s-control-plane.sh start DIR      start everything; DIR gets certs, logs, kubeconfigs
#   scripts/k8s-control-plane.sh stop DIR       stop what `start DIR` started
#
# After `start`, DIR/admin.kubeconfig is a cluster-admin kubeconfig and
# DIR/limited.kubeconfig the user "ember-limited" with no permissions (for RBAC
# tests); DIR/env holds KUBECONFIG and the API server's URL.
#
# Why a wrapper module: k8s.io/kubernetes requires its staging modules
# (k8s.io/api, k8s.io/client-go, ...) at v0.0.0 with `replace ./staging/...`,
# so `go install k8s.io/kubernetes/cmd/...@v` fails. The wrapper requires
# k8s.io/kubernetes and replaces each staging module by its published v0.X.Y.
set -euo pipefail

K8S_VERSION="${EMBER_K8S_VERSION:-v1.35.4}"
CACHE="${EMBER_K8S_CACHE:-$HOME/.cache/ember/k8s-$K8S_VERSION}"
BIN="$CACHE/bin"
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler)

log() { printf '[k8s-control-plane] %s\n' "$*" >&2; }

built() {
  local b
  for b in "${BINARIES[@]}"; do [[ -x "$BIN/$b" ]] || return 1; done
}

build() {
  if built; then log "cached: $BIN"; return 0; fi
  command -v go >/dev/null || { log "go is not installed"; return 1; }
  local work minor staging etcd_version
  work="$CACHE/build"
  mkdir -p "$work" "$BIN"
  minor="${K8S_VERSION#v1.}"            # 35.4
  export GOFLAGS="-mod=mod" CGO_ENABLED=0 GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
  cd "$work"
  # The staging modules are the `replace ... => ./staging/...` lines of
  # k8s.io/kubernetes's own go.mod.
  local gomod
  gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
  [[ -f "$gomod" ]] || { log "could not download k8s.io/kubernetes@$K8S_VERSION"; return 1; }
  staging="$(sed -n 's#^\s*\(k8s.io/[^ ]*\) => ./staging/.*#\1#p' "$gomod" | sort -u)"
  [[ -n "$staging" ]] || { log "no staging modules found in $gomod"; return 1; }
  {
    echo "module ember.local/k8s-control-plane"
    echo
    sed -n 's/^go \(.*\)/go \1/p' "$gomod" | head -1
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    for m in $staging; do echo "replace $m => $m v0.$minor"; done
  } >go.mod
  log "resolving the module graph of k8s.io/kubernetes $K8S_VERSION ($(wc -w <<<"$staging") staging modules)"
  go get "k8s.io/kubernetes@$K8S_VERSION"
  etcd_version="$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
  go get "go.etcd.io/etcd/server/v3@$etcd_version"
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
    -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor%%.*}"
  local c
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    log "building $c $K8S_VERSION"
    go build -p 2 -trimpath -ldflags "$ldflags" -o "$BIN/$c.tmp" "k8s.io/kubernetes/cmd/$c"
    mv "$BIN/$c.tmp" "$BIN/$c"
  done
  log "building etcd $etcd_version"
  go build -p 2 -trimpath -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$BIN/etcd.tmp" "$BIN/etcd"
  log "built: $(ls "$BIN" | tr '\n' ' ')"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A CA, the API server's serving certificate, client certificates and the
# service-account signing key, all with openssl.
certs() {
  local d="$1/pki"
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 \
      -subj "/CN=ember-test-ca" 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    # X.509 v3 with extensions everywhere: rustls refuses v1 certificates.
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >client.ext
    client() { # name CN O
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2${3:+/O=$3}" 2>/dev/null
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 30 \
        -extfile client.ext 2>/dev/null
    }
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt \
      -days 30 -extfile apiserver.ext 2>/dev/null
    client admin admin system:masters
    client limited ember-limited ""
  )
}

kubeconfig() { # file url user
  local dir="$1"; local file="$2" url="$3" user="$4"
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ember-test
  cluster:
    server: $url
    certificate-authority: $dir/pki/ca.crt
users:
- name: $user
  user:
    client-certificate: $dir/pki/$user.crt
    client-key: $dir/pki/$user.key
contexts:
- name: $user
  context: {cluster: ember-test, user: $user, namespace: default}
current-context: $user
EOF
}

start() {
  local dir="$1"
  build
  mkdir -p "$dir/logs"
  dir="$(cd "$dir" && pwd)"
  certs "$dir"
  local etcd_client etcd_peer api url
  etcd_client="$(free_port)"; etcd_peer="$(free_port)"; api="$(free_port)"
  url="https://127.0.0.1:$api"
  kubeconfig "$dir" "$dir/admin.kubeconfig" "$url" admin
  kubeconfig "$dir" "$dir/limited.kubeconfig" "$url" limited

  "$BIN/etcd" --data-dir "$dir/etcd" --name ember-test \
    --listen-client-urls "http://127.0.0.1:$etcd_client" --advertise-client-urls "http://127.0.0.1:$etcd_client" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "ember-test=http://127.0.0.1:$etcd_peer" \
    --unsafe-no-fsync --log-level warn >"$dir/logs/etcd.log" 2>&1 &
  echo $! >"$dir/etcd.pid"

  "$BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_client" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api" \
    --tls-cert-file "$dir/pki/apiserver.crt" --tls-private-key-file "$dir/pki/apiserver.key" \
    --client-ca-file "$dir/pki/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$dir/pki/sa.pub" --service-account-signing-key-file "$dir/pki/sa.key" \
    --service-cluster-ip-range 10.0.0.0/24 --authorization-mode Node,RBAC \
    --watch-cache=false --endpoint-reconciler-type none \
    --cert-dir "$dir/pki" >"$dir/logs/kube-apiserver.log" 2>&1 &
  echo $! >"$dir/kube-apiserver.pid"

  local i
  for i in $(seq 1 120); do
    if KUBECONFIG="$dir/admin.kubeconfig" curl -sf --cacert "$dir/pki/ca.crt" \
      --cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key" "$url/readyz" >/dev/null 2>&1; then
      break
    fi
    kill -0 "$(cat "$dir/kube-apiserver.pid")" 2>/dev/null || { tail -20 "$dir/logs/kube-apiserver.log" >&2; return 1; }
    sleep 0.5
  done

  "$BIN/kube-controller-manager" --kubeconfig "$dir/admin.kubeconfig" \
    --authentication-kubeconfig "$dir/admin.kubeconfig" --authorization-kubeconfig "$dir/admin.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false \
    --service-account-private-key-file "$dir/pki/sa.key" --root-ca-file "$dir/pki/ca.crt" \
    --use-service-account-credentials=false \
    --controllers '*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service,-route' \
    >"$dir/logs/kube-controller-manager.log" 2>&1 &
  echo $! >"$dir/kube-controller-manager.pid"

  "$BIN/kube-scheduler" --kubeconfig "$dir/admin.kubeconfig" \
    --authentication-kubeconfig "$dir/admin.kubeconfig" --authorization-kubeconfig "$dir/admin.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false \
    >"$dir/logs/kube-scheduler.log" 2>&1 &
  echo $! >"$dir/kube-scheduler.pid"

  printf 'KUBECONFIG=%s\nEMBER_K8S_API=%s\n' "$dir/admin.kubeconfig" "$url" >"$dir/env"
  log "up: $url (kubeconfig $dir/admin.kubeconfig)"
}

stop() {
  local dir="$1" p pid i
  for p in kube-scheduler kube-controller-manager kube-apiserver etcd; do
    [[ -f "$dir/$p.pid" ]] || continue
    pid="$(cat "$dir/$p.pid")"
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/$p.pid"
  done
}

case "${1:-}" in
  build) build ;;
  built) built ;;
  start) start "${2:?usage: start DIR}" ;;
  stop) stop "${2:?usage: stop DIR}" ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
