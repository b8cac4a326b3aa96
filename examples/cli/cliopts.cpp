// Parsing of the reqivo command line with QCommandLineParser.
//
// Everything that can be checked without the network is checked here, so that bad usage always
// exits with status 2 before the first request: numbers, header syntax, URLs, readable data files,
// certificate files, and the proxy URL.
#include "cliopts.h"
#include "cookiefiles.h"
#include "formfields.h"
#include "resume.h"

#include <Reqivo/reqivoglobal.h>

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace Qt::StringLiterals;

namespace ReqivoCli {

namespace {

ParseResult usageError(const QString &message)
{
    ParseResult r;
    r.message = u"reqivo: "_s + message + u"\nTry 'reqivo --help' for more information."_s;
    r.exitStatus = ExitUsage;
    return r;
}

// "-d @FILE" and "-d @-" read the data from a file or from stdin, byte for byte.
std::optional<QByteArray> readData(const QString &value, QString *error)
{
    if (!value.startsWith(u'@'))
        return value.toUtf8();
    const QString path = value.mid(1);
    QFile file;
    bool opened = false;
    if (path == u"-"_s)
        opened = file.open(stdin, QIODevice::ReadOnly);
    else {
        file.setFileName(path);
        opened = file.open(QIODevice::ReadOnly);
    }
    if (!opened) {
        *error = u"cannot read %1: %2"_s.arg(path, file.errorString());
        return std::nullopt;
    }
    QByteArray data = file.readAll();
    if (file.error() != QFileDevice::NoError) {
        *error = u"cannot read %1: %2"_s.arg(path, file.errorString());
        return std::nullopt;
    }
    return data;
}

// Seconds as typed ("2", "0.5"); zero means no limit, as in Reqivo::Timeout.
// Seconds, as curl takes them; 0 is "no limit", which the library spells Timeout::noLimit.
std::optional<std::chrono::milliseconds> parseSeconds(const QString &value)
{
    bool ok = false;
    const double seconds = value.toDouble(&ok);
    if (!ok || !std::isfinite(seconds) || seconds < 0 || seconds > 1e9)
        return std::nullopt;
    if (seconds == 0)
        return Reqivo::Timeout::noLimit;
    return std::chrono::milliseconds(std::max<long long>(std::llround(seconds * 1000.0), 1));
}

// "http://user:pass@host:port", "socks5://host:port"; a bare "host:port" is an HTTP proxy.
std::optional<QNetworkProxy> parseProxy(const QString &value)
{
    QUrl url(value.contains(u"://"_s) ? value : u"http://"_s + value, QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty())
        return std::nullopt;
    const QString scheme = url.scheme().toLower();
    QNetworkProxy proxy;
    if (scheme == u"http"_s) {
        proxy.setType(QNetworkProxy::HttpProxy);
        proxy.setPort(static_cast<quint16>(url.port(8080)));
    } else if (scheme == u"socks5"_s || scheme == u"socks5h"_s) {
        proxy.setType(QNetworkProxy::Socks5Proxy);
        proxy.setPort(static_cast<quint16>(url.port(1080)));
    } else {
        return std::nullopt;
    }
    proxy.setHostName(url.host());
    proxy.setUser(url.userName(QUrl::FullyDecoded));
    proxy.setPassword(url.password(QUrl::FullyDecoded));
    return proxy;
}

} // namespace

// A no_proxy list as curl reads it: comma-separated, blanks around items ignored.
QStringList splitHostList(const QString &list)
{
    QStringList hosts;
    for (const QString &item : list.split(u',', Qt::SkipEmptyParts)) {
        const QString host = item.trimmed();
        if (!host.isEmpty())
            hosts.append(host);
    }
    return hosts;
}

namespace {

// The URL to request for an argument; like curl, a URL without a scheme means http.
std::optional<QUrl> parseTarget(const QString &argument)
{
    const bool hasScheme = argument.contains(u"://"_s);
    QUrl url(hasScheme ? argument : u"http://"_s + argument, QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty())
        return std::nullopt;
    return url;
}

} // namespace

ParseResult parseArguments(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        u"Requests each URL in order through one Reqivo session, like a small curl.\n"
        "Exit status: 0 when every URL got a response (whatever its status), 1 otherwise, "
        "2 for bad usage.\n"
        "reqivo ws [options] URL: a WebSocket client, stdin lines out and messages in "
        "(reqivo ws --help)."_s);
    parser.setOptionsAfterPositionalArgumentsMode(QCommandLineParser::ParseAsOptions);

    const QCommandLineOption methodOpt(
        u"X"_s, u"Request method (default GET, POST with a body)."_s, u"METHOD"_s);
    const QCommandLineOption headerOpt(
        u"H"_s, u"Add a request header; repeatable."_s, u"'Name: Value'"_s);
    const QCommandLineOption dataOpt(u"d"_s,
        u"Request body, sent byte for byte as application/x-www-form-urlencoded; "
        "@FILE reads a file, @- reads stdin."_s,
        u"DATA|@FILE|@-"_s);
    const QCommandLineOption jsonOpt(u"json"_s,
        u"JSON request body (Content-Type and Accept: application/json); "
        "@FILE and @- work as for -d."_s,
        u"DATA"_s);
    const QCommandLineOption formOpt(u"F"_s,
        u"A multipart/form-data field (POST), as curl: name=value, or name=@FILE[;type=TYPE]"
        "[;filename=NAME] to upload FILE (streamed; its type from its name and content unless "
        "given); repeatable."_s,
        u"FIELD"_s);
    const QCommandLineOption userOpt(u"u"_s,
        u"Basic authentication, sent with every request (Digest with --digest)."_s, u"USER:PASS"_s);
    const QCommandLineOption digestOpt(u"digest"_s,
        u"Use -u's credentials for HTTP Digest (RFC 7616: SHA-256, MD5), sent only when the "
        "server asks."_s);
    const QCommandLineOption bearerOpt(u"bearer"_s, u"Bearer token authentication."_s, u"TOKEN"_s);
    const QCommandLineOption outputOpt(u"o"_s,
        u"Stream the body to FILE (a progress bar shows on a terminal). Once: every body "
        "into FILE; once per URL: one file each. '-' is stdout."_s,
        u"FILE"_s);
    const QCommandLineOption noFollowOpt(u"no-follow"_s, u"Do not follow redirects."_s);
    const QCommandLineOption maxRedirectsOpt(
        u"max-redirects"_s, u"Follow at most N redirects (default 30)."_s, u"N"_s);
    const QCommandLineOption timeoutOpt(u"timeout"_s,
        u"Limit for every phase and for the whole request, in seconds (0: none; default: "
        "5 s per phase, no overall limit)."_s,
        u"S"_s);
    const QCommandLineOption connectTimeoutOpt(
        u"connect-timeout"_s, u"Connect timeout in seconds."_s, u"S"_s);
    const QCommandLineOption readTimeoutOpt(
        u"read-timeout"_s, u"Read timeout (no data for S seconds)."_s, u"S"_s);
    const QCommandLineOption cacertOpt(
        u"cacert"_s, u"Also trust the PEM CA certificates in FILE."_s, u"FILE"_s);
    const QCommandLineOption insecureOpt(
        u"insecure"_s, u"Do not verify the server's TLS certificate."_s);
    const QCommandLineOption certOpt(
        u"cert"_s, u"Client certificate (PEM), with --key."_s, u"FILE"_s);
    const QCommandLineOption keyOpt(
        u"key"_s, u"Client private key (unencrypted PEM)."_s, u"FILE"_s);
    const QCommandLineOption pinnedOpt(u"pinnedpubkey"_s,
        u"'sha256//B64[;sha256//B64...]': accept a TLS server only when a certificate of its "
        "chain has one of these public key pins (base64 SHA-256 of the SubjectPublicKeyInfo); "
        "also with --insecure."_s,
        u"PINS"_s);
    const QCommandLineOption proxyOpt(u"proxy"_s,
        u"Use a proxy: http://[user:pass@]host:port or socks5://... It beats the environment's "
        "http_proxy, https_proxy and all_proxy (read by default, as curl does; HTTP_PROXY in "
        "upper case is ignored); user:pass answer the proxy's 407 (Basic or Digest)."_s,
        u"URL"_s);
    const QCommandLineOption noProxyOpt(u"noproxy"_s,
        u"Hosts that never go through a proxy: a comma-separated list of host names, domain "
        "suffixes, IP addresses or CIDR ranges, or '*'. Replaces the environment's "
        "no_proxy/NO_PROXY."_s,
        u"LIST"_s);
    const QCommandLineOption retryOpt(u"retry"_s,
        u"Retry a failed request up to N times (idempotent methods, or with an "
        "Idempotency-Key): on connection refused, reset or closed before the response, "
        "connect or read timeouts, and on 408, 429, 502, 503, 504; backoff from 0.5 s "
        "doubling up to 30 s with full jitter, or Retry-After up to 60 s (longer: the "
        "response is returned). Default: no retries."_s,
        u"N"_s);
    const QCommandLineOption retryMaxTimeOpt(u"retry-max-time"_s,
        u"With --retry: no retry or backoff runs past S seconds from the start (0: no "
        "limit)."_s,
        u"S"_s);
    const QCommandLineOption compressedOpt(
        u"compressed"_s, u"Ask for gzip, deflate, br and zstd and decode them (the default)."_s);
    const QCommandLineOption noCompressedOpt(
        u"no-compressed"_s, u"Do not ask for compressed bodies."_s);
    const QCommandLineOption http11Opt(u"http1.1"_s, u"Use HTTP/1.1 only."_s);
    const QCommandLineOption http2Opt(
        u"http2"_s, u"Offer HTTP/2 to HTTPS servers in ALPN, HTTP/1.1 otherwise (the default)."_s);
    const QCommandLineOption http2PriorOpt(u"http2-prior-knowledge"_s,
        u"Speak HTTP/2 from the first byte to http:// URLs (the server must support it)."_s);
    const QCommandLineOption syncOpt(
        u"sync"_s, u"Use the blocking Session instead of AsyncSession."_s);
    const QCommandLineOption verboseOpt(QStringList {u"v"_s, u"verbose"_s},
        u"Print request and response heads on stderr, with the values of credentials, cookies, "
        "URL user info and secret query parameters replaced by <redacted>."_s);
    const QCommandLineOption reportOpt(u"report"_s,
        u"Print one JSON object per URL on stdout and nothing else (jsonl), with the attempts "
        "made and the phases' timings."_s,
        u"FORMAT"_s);
    const QCommandLineOption versionOpt(u"version"_s, u"Print the version and exit."_s);

    for (const auto *o :
        {&methodOpt, &headerOpt, &dataOpt, &jsonOpt, &userOpt, &digestOpt, &bearerOpt, &outputOpt,
            &noFollowOpt, &maxRedirectsOpt, &timeoutOpt, &connectTimeoutOpt, &readTimeoutOpt,
            &retryOpt, &retryMaxTimeOpt, &cacertOpt, &insecureOpt, &certOpt, &keyOpt, &pinnedOpt,
            &proxyOpt, &noProxyOpt, &compressedOpt, &noCompressedOpt, &http11Opt, &http2Opt,
            &http2PriorOpt, &syncOpt, &verboseOpt, &reportOpt, &versionOpt})
        parser.addOption(*o);
    parser.addOption(formOpt);
    const QCommandLineOption continueOpt(QStringList {u"C"_s, u"continue-at"_s},
        u"With '-': resume each -o FILE: its data stays in FILE.part (and FILE.part.meta) until "
        "complete, a rerun continues with Range and If-Range, a FILE without them is continued "
        "from its size (docs/downloads.md)."_s,
        u"-"_s);
    parser.addOption(continueOpt);
    const QCommandLineOption cookieOpt(QStringList {u"b"_s, u"cookie"_s},
        u"Send cookies: a Netscape cookies.txt FILE (as curl -c writes it; a FILE that does not "
        "exist is an empty jar), or 'NAME=VALUE; N2=V2' (an argument with '=') for the hosts of "
        "the URLs given; repeatable."_s,
        u"FILE|NAME=VALUE"_s);
    const QCommandLineOption cookieJarOpt(QStringList {u"c"_s, u"cookie-jar"_s},
        u"Write every cookie to FILE at the end, session cookies included (expiry 0), replacing "
        "it atomically; with -b FILE, a login carries into the next run."_s,
        u"FILE"_s);
    parser.addOption(cookieOpt);
    parser.addOption(cookieJarOpt);
    const QCommandLineOption helpOpt = parser.addHelpOption();
    parser.addPositionalArgument(
        u"URL"_s, u"One or more URLs, requested in order."_s, u"URL [URL...]"_s);

    if (!parser.parse(arguments))
        return usageError(parser.errorText());

    if (parser.isSet(helpOpt)) {
        ParseResult r;
        r.message = parser.helpText();
        // The usage line names the program as invoked (a full path); the command's name reads
        // better.
        const QString invoked = arguments.value(0);
        if (!invoked.isEmpty() && r.message.indexOf(invoked) < r.message.indexOf(u'\n'))
            r.message.replace(r.message.indexOf(invoked), invoked.size(), u"reqivo"_s);
        return r;
    }
    if (parser.isSet(versionOpt)) {
        ParseResult r;
        r.message = u"reqivo %1 (Reqivo for Qt, Qt %2)\n"_s.arg(
            QString::fromLatin1(Reqivo::versionString()), QString::fromLatin1(qVersion()));
        return r;
    }

    CliOptions o;
    o.sync = parser.isSet(syncOpt);
    o.verbose = parser.isSet(verboseOpt);
    if (parser.isSet(reportOpt)) {
        const QStringList formats = parser.values(reportOpt);
        if (formats.last() != u"jsonl"_s)
            return usageError(
                u"unknown report format '%1' (only 'jsonl' exists)"_s.arg(formats.last()));
        o.report = true;
    }

    const QStringList urls = parser.positionalArguments();
    if (urls.isEmpty())
        return usageError(u"no URL given"_s);
    for (const QString &argument : urls) {
        const std::optional<QUrl> url = parseTarget(argument);
        if (!url)
            return usageError(u"not a valid URL: '%1'"_s.arg(argument));
        o.targets.append(Target {argument, *url});
    }

    if (parser.isSet(methodOpt)) {
        o.method = parser.value(methodOpt).toLatin1();
        if (o.method.isEmpty())
            return usageError(u"empty method for -X"_s);
    }

    for (const QString &header : parser.values(headerOpt)) {
        const qsizetype colon = header.indexOf(u':');
        const QByteArray name = header.left(colon).trimmed().toLatin1();
        if (colon <= 0 || name.isEmpty() || name.contains(' ') || name.contains('\t'))
            return usageError(u"bad header '%1': expected 'Name: Value'"_s.arg(header));
        o.headers.add(name, header.mid(colon + 1).trimmed().toUtf8());
    }

    if (parser.isSet(dataOpt) && parser.isSet(jsonOpt))
        return usageError(u"-d and --json cannot be used together"_s);
    if (parser.isSet(dataOpt) || parser.isSet(jsonOpt)) {
        const bool json = parser.isSet(jsonOpt);
        QString error;
        o.body = readData(parser.value(json ? jsonOpt : dataOpt), &error);
        if (!o.body)
            return usageError(error);
        o.bodyContentType = json ? "application/json" : "application/x-www-form-urlencoded";
        if (json && !o.headers.contains("Accept"))
            o.headers.add("Accept", "application/json");
        // A Content-Type given with -H describes the body: it replaces the default one.
        if (o.headers.contains("Content-Type")) {
            o.bodyContentType = o.headers.value("Content-Type").toByteArray();
            o.headers.remove("Content-Type");
        }
    }

    if (parser.isSet(formOpt)) {
        if (parser.isSet(dataOpt) || parser.isSet(jsonOpt))
            return usageError(u"-F cannot be used with -d or --json (one request body)"_s);
        QString error;
        o.form = parseFormFields(parser.values(formOpt), &error);
        if (!o.form)
            return usageError(error);
    }

    o.outputFiles = parser.values(outputOpt);
    if (o.outputFiles.size() > 1 && o.outputFiles.size() != o.targets.size())
        return usageError(u"give -o once, or once per URL (%1 URLs, %2 -o)"_s.arg(o.targets.size())
                              .arg(o.outputFiles.size()));
    for (const QString &file : std::as_const(o.outputFiles)) {
        if (file.isEmpty())
            return usageError(u"empty file name for -o"_s);
    }

    if (parser.isSet(userOpt)) {
        const QString value = parser.value(userOpt);
        const qsizetype colon = value.indexOf(u':');
        o.basicAuth = colon < 0 ? std::pair {value, QString()}
                                : std::pair {value.left(colon), value.mid(colon + 1)};
    }
    if (parser.isSet(digestOpt)) {
        if (!o.basicAuth)
            return usageError(u"--digest needs -u USER:PASS"_s);
        o.digest = true;
    }
    if (parser.isSet(bearerOpt))
        o.bearerToken = parser.value(bearerOpt);

    if (parser.isSet(noFollowOpt))
        o.followRedirects = false;
    if (parser.isSet(maxRedirectsOpt)) {
        bool ok = false;
        const int n = parser.value(maxRedirectsOpt).toInt(&ok);
        if (!ok || n < 0)
            return usageError(u"--max-redirects needs a number >= 0"_s);
        o.maxRedirects = n;
    }

    if (parser.isSet(timeoutOpt) || parser.isSet(connectTimeoutOpt)
        || parser.isSet(readTimeoutOpt)) {
        Reqivo::Timeout timeout;
        const std::pair<const QCommandLineOption *, std::chrono::milliseconds Reqivo::Timeout::*>
            phases[] = {{&connectTimeoutOpt, &Reqivo::Timeout::connect},
                {&readTimeoutOpt, &Reqivo::Timeout::read}};
        if (parser.isSet(timeoutOpt)) {
            const auto all = parseSeconds(parser.value(timeoutOpt));
            if (!all)
                return usageError(u"--timeout needs a number of seconds >= 0"_s);
            // Each phase and the whole request: Timeout::all() alone bounds each wait only.
            timeout = Reqivo::Timeout::all(*all).withTotal(*all);
        }
        for (const auto &[opt, member] : phases) {
            if (!parser.isSet(*opt))
                continue;
            const auto value = parseSeconds(parser.value(*opt));
            if (!value)
                return usageError(
                    u"--%1 needs a number of seconds >= 0"_s.arg(opt->names().first()));
            timeout.*member = *value;
        }
        o.timeout = timeout;
    }

    if (parser.isSet(retryOpt)) {
        bool ok = false;
        const int n = parser.value(retryOpt).toInt(&ok);
        if (!ok || n < 0 || n > 1000000)
            return usageError(u"--retry needs a number of retries from 0 to 1000000"_s);
        o.retries = n;
    }
    if (parser.isSet(retryMaxTimeOpt)) {
        const auto limit = parseSeconds(parser.value(retryMaxTimeOpt));
        if (!limit)
            return usageError(u"--retry-max-time needs a number of seconds >= 0"_s);
        // Without --retry it has nothing to bound (curl ignores it too).
        if (o.retries)
            o.retryMaxTime = *limit;
    }

    if (parser.isSet(cacertOpt) || parser.isSet(insecureOpt) || parser.isSet(certOpt)
        || parser.isSet(keyOpt) || parser.isSet(pinnedOpt)) {
        Reqivo::TlsOptions tls;
        QString error;
        for (const QString &file : parser.values(cacertOpt)) {
            if (!tls.addCaCertificatesFromFile(file, &error))
                return usageError(u"--cacert %1: %2"_s.arg(file, error));
        }
        if (parser.isSet(certOpt) != parser.isSet(keyOpt))
            return usageError(u"--cert and --key go together"_s);
        if (parser.isSet(certOpt)
            && !tls.setClientCertificateFromFiles(
                parser.value(certOpt), parser.value(keyOpt), &error))
            return usageError(u"--cert/--key: %1"_s.arg(error));
        if (parser.isSet(insecureOpt))
            tls.verifyPeer = false;
        if (parser.isSet(pinnedOpt)) {
            // The pins hold for every TLS connection, to the URLs given and to hosts their
            // redirects lead to (as curl's), whether or not --insecure is set.
            o.pinnedPublicKeys = parser.value(pinnedOpt);
            if (!tls.addPins(u"*"_s, o.pinnedPublicKeys, &error))
                return usageError(u"--pinnedpubkey: %1"_s.arg(error));
        }
        o.tlsOptions = tls;
    }

    if (parser.isSet(proxyOpt)) {
        o.proxy = parseProxy(parser.value(proxyOpt));
        if (!o.proxy)
            return usageError(u"bad proxy URL '%1' (http://, socks5:// or host:port)"_s.arg(
                parser.value(proxyOpt)));
    }
    if (parser.isSet(noProxyOpt))
        o.noProxy = splitHostList(parser.value(noProxyOpt));

    // The last of --compressed / --no-compressed wins, as with curl's --no- options; so does
    // the last of the HTTP version options.
    const QStringList found = parser.optionNames();
    for (auto it = found.crbegin(); it != found.crend(); ++it) {
        if (*it == u"http1.1"_s) {
            o.httpVersion = Reqivo::HttpVersion::Http1_1;
            break;
        }
        if (*it == u"http2"_s) {
            o.httpVersion = Reqivo::HttpVersion::Http2;
            break;
        }
        if (*it == u"http2-prior-knowledge"_s) {
            o.httpVersion = Reqivo::HttpVersion::Http2PriorKnowledge;
            break;
        }
    }
    for (auto it = found.crbegin(); it != found.crend(); ++it) {
        if (*it == u"compressed"_s || *it == u"no-compressed"_s) {
            o.decompress = *it == u"compressed"_s;
            break;
        }
    }

    if (parser.isSet(continueOpt)) {
        if (const QString error = applyContinueAt(&o, parser.value(continueOpt)); !error.isEmpty())
            return usageError(error);
    }

    if (const QString error
        = applyCookieOptions(&o, parser.values(cookieOpt), parser.values(cookieJarOpt));
        !error.isEmpty())
        return usageError(error);

    ParseResult r;
    r.options = std::move(o);
    return r;
}

} // namespace ReqivoCli
