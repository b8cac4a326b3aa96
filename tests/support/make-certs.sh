#!/usr/bin/env bash
# make-certs.sh OUTDIR: the certificates the TLS tests need, made with the openssl CLI.
#
#   ca.pem ca.key               test CA (trusted by the tests)
#   server.pem server.key       signed by the CA; SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   client.pem client.key       signed by the CA; clientAuth, for mutual TLS
#   other-ca.pem other-ca.key   an unrelated CA ("untrusted" tests)
#   other-server.pem/.key       server cert (same SANs) signed by the unrelated CA
#   expired.pem expired.key     server cert (same SANs) signed by the CA, valid only in 2020
#   wronghost.pem wronghost.key server cert signed by the CA; SAN only DNS:example.invalid
#
# Host-name verification (RFC 9525) cases, all signed by the CA; Qt 6.4 alone accepts the
# first four for the host in brackets, Reqivo must refuse them:
#   cn-not-san.pem/.key         CN=localhost, SAN only DNS:other.invalid      [localhost]
#   cn-only.pem/.key            CN=localhost, no SAN at all                   [localhost]
#   ip-in-cn.pem/.key           CN=127.0.0.1, no SAN                          [127.0.0.1]
#   ip-as-dns.pem/.key          SAN DNS:127.0.0.1 (a DNS-type entry, not IP)  [127.0.0.1]
#   partial-wildcard.pem/.key   SAN DNS:f*.wild.reqivo.test                   [foo.wild.reqivo.test]
#   wildcard.pem/.key           SAN DNS:*.wild.reqivo.test (tests resolve *.reqivo.test to
#                               127.0.0.1 inside the test process)
#
# Certificate pinning (key types other than EC, and the pins openssl computes):
#   rsa-server.pem/.key         RSA 2048 key, signed by the CA, same SANs as server.pem
#   ed25519-server.pem/.key     Ed25519 key, signed by the CA, same SANs as server.pem
#   NAME.pin                    "sha256//BASE64" of the SubjectPublicKeyInfo of NAME.pem, for
#                               ca, server, rsa-server, ed25519-server, other-ca, other-server
#
# EC P-256 keys (but one RSA key), so the whole set takes well under a second. Idempotent: an existing, complete
# set that is valid for at least another day is left alone. The files appear atomically (made
# in a temporary directory, then moved), so concurrent runs never see half a set.
set -euo pipefail

out=${1:?usage: make-certs.sh OUTDIR}
command -v openssl >/dev/null || { echo "make-certs.sh: openssl not found (Debian package openssl)" >&2; exit 1; }
mkdir -p "$out"

files=(ca.pem ca.key server.pem server.key client.pem client.key other-ca.pem other-ca.key
       other-server.pem other-server.key expired.pem expired.key wronghost.pem wronghost.key
       cn-not-san.pem cn-not-san.key cn-only.pem cn-only.key ip-in-cn.pem ip-in-cn.key
       ip-as-dns.pem ip-as-dns.key partial-wildcard.pem partial-wildcard.key
       wildcard.pem wildcard.key rsa-server.pem rsa-server.key ed25519-server.pem
       ed25519-server.key ca.pin server.pin rsa-server.pin ed25519-server.pin other-ca.pin
       other-server.pin)
complete=1
for f in "${files[@]}"; do [[ -s $out/$f ]] || complete=0; done
if ((complete)) && openssl x509 -in "$out/server.pem" -noout -checkend 86400 >/dev/null 2>&1; then
    exit 0
fi

work=$(mktemp -d "$out/.make-certs.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
exec 3>&2 2>openssl.log

newkey() { # the key type is $keytype: ec (default), rsa or ed25519
    case ${keytype:-ec} in
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "$1" ;;
    *) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" ;;
    esac
}

pin() { # pin NAME: NAME.pin, computed the way curl's documentation computes a --pinnedpubkey
    local digest
    digest=$(openssl x509 -in "$1.pem" -pubkey -noout | openssl pkey -pubin -outform der |
        openssl dgst -sha256 -binary | openssl base64 -A) || return 1
    printf 'sha256//%s\n' "$digest" >"$1.pin"
}

ca() { # ca NAME "Common Name"
    newkey "$1.key"
    openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 3650 -subj "/O=Reqivo tests/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign"
}

leaf() { # leaf NAME CA "Common Name" "subjectAltName" extendedKeyUsage
    newkey "$1.key"
    openssl req -new -key "$1.key" -out "$1.csr" -subj "/O=Reqivo tests/CN=$3"
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n%s\n' \
        "$5" "${4:+subjectAltName=$4}" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -set_serial "0x$(openssl rand -hex 8)" \
        -days 825 -extfile "$1.ext" -out "$1.pem"
}

if ! {
    local_sans="DNS:localhost,IP:127.0.0.1,IP:::1"
    ca ca "Reqivo Test CA" &&
    ca other-ca "Unrelated Test CA" &&
    leaf server ca localhost "$local_sans" serverAuth &&
    leaf client ca "reqivo-client" "" clientAuth &&
    leaf other-server other-ca localhost "$local_sans" serverAuth &&
    leaf wronghost ca example.invalid "DNS:example.invalid" serverAuth &&
    leaf cn-not-san ca localhost "DNS:other.invalid" serverAuth &&
    leaf cn-only ca localhost "" serverAuth &&
    leaf ip-in-cn ca 127.0.0.1 "" serverAuth &&
    leaf ip-as-dns ca "reqivo test" "DNS:127.0.0.1" serverAuth &&
    leaf partial-wildcard ca "partial wildcard" "DNS:f*.wild.reqivo.test" serverAuth &&
    leaf wildcard ca "*.wild.reqivo.test" "DNS:*.wild.reqivo.test" serverAuth &&
    keytype=rsa leaf rsa-server ca localhost "$local_sans" serverAuth &&
    keytype=ed25519 leaf ed25519-server ca localhost "$local_sans" serverAuth &&
    pin ca && pin server && pin rsa-server && pin ed25519-server && pin other-ca &&
    pin other-server &&
    # openssl x509 in 3.0 cannot back-date a certificate, `openssl ca` can (-startdate/-enddate).
    newkey expired.key &&
    openssl req -new -key expired.key -out expired.csr -subj "/O=Reqivo tests/CN=localhost" &&
    mkdir -p ca-db && : >ca-db/index.txt &&
    cat >ca.cnf <<EOF &&
[ca]
default_ca = test
[test]
dir = ca-db
database = ca-db/index.txt
new_certs_dir = ca-db
serial = ca-db/serial
default_md = sha256
policy = any
copy_extensions = none
x509_extensions = server
unique_subject = no
[any]
commonName = supplied
organizationName = optional
[server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $local_sans
EOF
    openssl rand -hex 8 >ca-db/serial &&
    openssl ca -batch -notext -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr \
        -out expired.pem -startdate 20200101000000Z -enddate 20200102000000Z
}; then
    cat openssl.log >&3
    echo "make-certs.sh: could not create the test certificates" >&3
    exit 1
fi

mv -f "${files[@]}" "$out/"
