#!/usr/bin/env bash
# Checks from outside, with curl on 127.0.0.1, that the peers started by the CTest fixtures
# answer as tests expect: nginx over HTTP, HTTPS, HTTP/2 and mTLS, httpbin's /get (also over
# HTTP/2 through its nginx), and nghttpd's cleartext (prior knowledge) and TLS HTTP/2.
#   smoke.sh DIR   (DIR holds nginx.env, httpbin.env and nghttpd.env)
set -euo pipefail
dir=${1:?usage: smoke.sh DIR}
command -v curl >/dev/null || { echo "error: curl not found (Debian package curl)" >&2; exit 1; }
for f in nginx httpbin nghttpd; do
    [[ -f $dir/$f.env ]] || { echo "error: $dir/$f.env missing: fixture $f not started" >&2; exit 1; }
done
# shellcheck disable=SC1091
source "$dir/nginx.env"
# shellcheck disable=SC1091
source "$dir/httpbin.env"
# shellcheck disable=SC1091
source "$dir/nghttpd.env"

fail=0
check() { # <description> <expected> <actual>
    if [[ $2 == "$3" ]]; then echo "ok   $1"; else echo "FAIL $1: expected '$2', got '$3'"; fail=1; fi
}
c=(curl -sS --max-time 10 --noproxy '*')

check "nginx http /small.txt" "Hello from nginx" "$("${c[@]}" "$NGINX_HTTP_URL/small.txt")"
check "nginx https /small.txt" "Hello from nginx" \
    "$("${c[@]}" --cacert "$NGINX_CA_FILE" "$NGINX_HTTPS_URL/small.txt")"
check "nginx https rejected without the test CA" "60" \
    "$("${c[@]}" -o /dev/null "$NGINX_HTTPS_URL/small.txt" 2>/dev/null; echo $?)"
check "nginx mTLS without client certificate" "400" \
    "$("${c[@]}" -o /dev/null -w '%{http_code}' --cacert "$NGINX_CA_FILE" "$NGINX_MTLS_URL/whoami")"
# nginx answers the subject of the certificate it verified, in RFC 2253 form.
check "nginx mTLS with client certificate" \
    "$(openssl x509 -in "$NGINX_CLIENT_CERT" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')" \
    "$("${c[@]}" --cacert "$NGINX_CA_FILE" --cert "$NGINX_CLIENT_CERT" --key "$NGINX_CLIENT_KEY" \
        "$NGINX_MTLS_URL/whoami")"
check "nginx /large.bin SHA-256" "$NGINX_LARGE_SHA256" \
    "$("${c[@]}" "$NGINX_HTTP_URL$NGINX_LARGE_PATH" | sha256sum | cut -d' ' -f1)"
# curl reports one new connection for the first URL and none for the second.
check "nginx keeps the connection alive" "10" \
    "$("${c[@]}" -o /dev/null -o /dev/null -w '%{num_connects}' \
        "$NGINX_HTTP_URL/small.txt" "$NGINX_HTTP_URL/hello.json")"
# HTTP/2: curl's %{http_version} says which protocol really answered ("2" or "1.1").
h2=("${c[@]}" --http2 --cacert "$NGINX_CA_FILE")
h2c=("${c[@]}" --http2-prior-knowledge)
h2tls=("${c[@]}" --http2 --cacert "$NGHTTPD_CA_FILE")
version() { "$@" -o /dev/null -w '%{http_version}'; }
sha() { sha256sum | cut -d' ' -f1; }
check "nginx h2 /small.txt over HTTP/2" "2 Hello from nginx" \
    "$(version "${h2[@]}" "$NGINX_H2_URL/small.txt") $("${h2[@]}" "$NGINX_H2_URL/small.txt")"
check "nginx https stays HTTP/1.1 when h2 is offered" "1.1" \
    "$(version "${h2[@]}" "$NGINX_HTTPS_URL/small.txt")"
check "nginx h2 port answers HTTP/1.1 by ALPN" "1.1" \
    "$(version "${c[@]}" --http1.1 --cacert "$NGINX_CA_FILE" "$NGINX_H2_URL/small.txt")"
check "nginx h2 /large.bin SHA-256" "$NGINX_LARGE_SHA256" \
    "$("${h2[@]}" "$NGINX_H2_URL$NGINX_LARGE_PATH" | sha)"
upload() { head -c 300000 "$NGINX_DOCROOT$NGINX_LARGE_PATH"; }
check "nginx h2 /echo returns the request body" "$(upload | sha)" \
    "$(upload | "${h2[@]}" --data-binary @- "$NGINX_H2_URL/echo" | sha)"
check "nginx http /echo returns the request body" "$(upload | sha)" \
    "$(upload | "${c[@]}" --data-binary @- "$NGINX_HTTP_URL/echo" | sha)"
check "nghttpd cleartext with prior knowledge" "2 Hello from nghttpd" \
    "$(version "${h2c[@]}" "$NGHTTPD_URL/small.txt") $("${h2c[@]}" "$NGHTTPD_URL/small.txt")"
check "nghttpd TLS, h2 by ALPN" '2 {"hello":"nghttpd","n":1}' \
    "$(version "${h2tls[@]}" "$NGHTTPD_TLS_URL/hello.json") $("${h2tls[@]}" "$NGHTTPD_TLS_URL/hello.json")"
check "nghttpd /large.bin SHA-256" "$NGHTTPD_LARGE_SHA256" \
    "$("${h2c[@]}" "$NGHTTPD_URL$NGHTTPD_LARGE_PATH" | sha)"
check "nghttpd echoes a POST body" "$(upload | sha)" \
    "$(upload | "${h2c[@]}" --data-binary @- "$NGHTTPD_URL/upload" | sha)"
check "httpbin /get" "200 http://127.0.0.1:$HTTPBIN_PORT/get" \
    "$("${c[@]}" -w '%{http_code}' "$HTTPBIN_URL/get" |
        "${PEER_PYTHON:-/usr/bin/python3}" -c 'import json,sys; t=sys.stdin.read(); print(t[-3:], json.loads(t[:-3])["url"])')"
# httpbin over HTTP/2: nginx in front of gunicorn, TLS with httpbin's own test CA. Absolute URLs
# and redirects name the proxy (Host and X-Forwarded-Proto are passed on).
hb2=("${c[@]}" --http2 --cacert "$HTTPBIN_CA_FILE")
check "httpbin h2 /get over HTTP/2" "2 https://127.0.0.1:$HTTPBIN_H2_PORT/get" \
    "$(version "${hb2[@]}" "$HTTPBIN_H2_URL/get") $("${hb2[@]}" "$HTTPBIN_H2_URL/get" |
        "${PEER_PYTHON:-/usr/bin/python3}" -c 'import json,sys; print(json.load(sys.stdin)["url"])')"
check "httpbin h2 absolute redirects stay on the proxy" "https://127.0.0.1:$HTTPBIN_H2_PORT/get" \
    "$("${hb2[@]}" -o /dev/null -w '%{redirect_url}' "$HTTPBIN_H2_URL/absolute-redirect/1")"
# (text: httpbin echoes bytes that are not UTF-8 as a data: URL)
check "httpbin h2 echoes a streamed upload" "300000" \
    "$(head -c 300000 /dev/zero | tr '\0' u | "${hb2[@]}" -T - "$HTTPBIN_H2_URL/anything" |
        "${PEER_PYTHON:-/usr/bin/python3}" -c 'import json,sys; print(len(json.load(sys.stdin)["data"]))')"
check "httpbin h2 rejected without its CA" "60" \
    "$("${c[@]}" --http2 -o /dev/null "$HTTPBIN_H2_URL/get" 2>/dev/null; echo $?)"
exit $fail
