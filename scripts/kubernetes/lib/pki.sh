# Sourced by cluster.sh: the cluster's certificates and kubeconfigs, made with openssl on first
# `up` and kept until `down` (a restarted cluster keeps its identities). One CA signs them all;
# keys are ECDSA P-256 and readable by root only.
#
# Who is who (Kubernetes reads the subject: CN = user, O = group):
#   etcd-server, apiserver (TLS servers), kubelet-server (the kubelet's own TLS port),
#   admin (system:masters), apiserver-etcd-client, apiserver-kubelet-client (system:masters, so
#   it may use the kubelet API for logs and exec), controller-manager, scheduler, kube-proxy,
#   node (system:node:<name> in system:nodes, which the Node authorizer expects).

# issue NAME SUBJECT EXTENSIONS: a key and a certificate signed by the cluster CA.
issue() {
  local name="$1" subject="$2" ext="$3"
  [[ -s "$PKI/$name.crt" ]] && return 0
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$name.key" 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "$subject" -out "$PKI/$name.csr" 2>/dev/null
  printf '%s\n' "$ext" >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

client_ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"

server_ext() {
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$1"
}

make_pki() {
  mkdir -p "$PKI"
  chmod 700 "$PKI"
  umask 077
  if [[ ! -s "$PKI/ca.crt" ]]; then
    openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/ca.key" 2>/dev/null
    openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=mtls-pki local kubernetes CA" -days 3650 \
      -sha256 -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$PKI/ca.crt" 2>/dev/null
  fi
  issue etcd-server "/CN=etcd" "$(server_ext "IP:127.0.0.1,DNS:localhost")"
  issue apiserver "/CN=kube-apiserver" "$(server_ext "IP:127.0.0.1,IP:$SERVICE_API_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local")"
  issue kubelet-server "/CN=$NODE_NAME" "$(server_ext "IP:127.0.0.1,DNS:$NODE_NAME")"
  issue admin "/O=system:masters/CN=mtls-pki-admin" "$client_ext"
  issue apiserver-etcd-client "/CN=kube-apiserver-etcd-client" "$client_ext"
  issue apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$client_ext"
  issue controller-manager "/CN=system:kube-controller-manager" "$client_ext"
  issue scheduler "/CN=system:kube-scheduler" "$client_ext"
  issue kube-proxy "/CN=system:kube-proxy" "$client_ext"
  issue node "/O=system:nodes/CN=system:node:$NODE_NAME" "$client_ext"
  # The key the API server signs service-account tokens with (and verifies them by).
  if [[ ! -s "$PKI/service-account.key" ]]; then
    openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/service-account.key" 2>/dev/null
    openssl ec -in "$PKI/service-account.key" -pubout -out "$PKI/service-account.pub" 2>/dev/null
  fi
  umask 022
  for who in admin controller-manager scheduler kube-proxy node; do
    write_kubeconfig "$who"
  done
}

# write_kubeconfig WHO: a kubeconfig with WHO's certificate and key inline, so that the file alone
# is the credential (the admin one is what tests and users are given).
write_kubeconfig() {
  local who="$1" file="$STATE/$1.kubeconfig"
  b64() { base64 -w0 <"$1"; }
  (
    umask 077
    cat >"$file" <<YAML
apiVersion: v1
kind: Config
clusters:
  - name: mtls-pki-local
    cluster:
      server: https://127.0.0.1:$API_PORT
      certificate-authority-data: $(b64 "$PKI/ca.crt")
users:
  - name: $who
    user:
      client-certificate-data: $(b64 "$PKI/$who.crt")
      client-key-data: $(b64 "$PKI/$who.key")
contexts:
  - name: $who@mtls-pki-local
    context:
      cluster: mtls-pki-local
      user: $who
      namespace: default
current-context: $who@mtls-pki-local
YAML
  )
}
