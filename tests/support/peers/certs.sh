# Test certificates, made fresh for each peer start. Sourced, not run.
#
# peer_make_certs DIR writes into DIR:
#   ca.pem ca.key          a throw-away CA (the only thing tests should trust)
#   server.pem server.key  for localhost, 127.0.0.1 and ::1, signed by the CA
#   client.pem client.key  CN=reqivo-client, clientAuth, signed by the CA (for mTLS)
# When tests/support/make-certs.sh exists it is used instead: it writes the same files and
# more (an unrelated CA, an expired and a wrong-host certificate), all left in DIR.
# shellcheck shell=bash

peer_make_certs() {
    local out=$1 shared
    shared="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/make-certs.sh"
    mkdir -p "$out"
    if [[ -f $shared ]]; then
        bash "$shared" "$out" >"$out/make-certs.log" 2>&1 ||
            { cat "$out/make-certs.log" >&2; peer_die "$shared failed"; }
        local f
        for f in ca.pem server.pem server.key client.pem client.key; do
            [[ -s $out/$f ]] || peer_die "$shared did not write $out/$f"
        done
        return 0
    fi
    command -v openssl >/dev/null || peer_die "openssl not found (Debian package openssl)"
    (
        set -e
        cd "$out"
        exec 2>openssl.log
        local key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
        openssl req -x509 "${key[@]}" -keyout ca.key -out ca.pem -days 30 \
            -subj "/O=Reqivo tests/CN=Reqivo Test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null
        openssl req "${key[@]}" -keyout server.key -out server.csr \
            -subj "/O=Reqivo tests/CN=localhost" >/dev/null
        printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
            "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
            >server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -days 30 -extfile server.ext -out server.pem >/dev/null
        openssl req "${key[@]}" -keyout client.key -out client.csr \
            -subj "/O=Reqivo tests/CN=reqivo-client" >/dev/null
        printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
            "extendedKeyUsage=clientAuth" >client.ext
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -days 30 -extfile client.ext -out client.pem >/dev/null
        rm -f ./*.csr ./*.ext ca.srl
    ) || { cat "$out/openssl.log" >&2; peer_die "could not create test certificates"; }
}
