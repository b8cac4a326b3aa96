// The reqivo command's options: what the user asked for, parsed and checked before any request.
//
// Parsing never touches the network and never exits: it returns either a complete CliOptions or
// the message and exit status (0 for --help/--version, 2 for bad usage) that main() prints.
#pragma once

#include <Reqivo/endpoint.h>
#include <Reqivo/headers.h>
#include <Reqivo/multipart.h>
#include <Reqivo/timeout.h>

#include <QByteArray>
#include <QNetworkCookie>
#include <QNetworkProxy>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <chrono>
#include <optional>

namespace Reqivo {
class AsyncSession;
}

namespace ReqivoCli {

//! Exit statuses, as the issue defines them.
enum ExitStatus : int {
    ExitOk = 0, //!< every URL got a response, whatever its status
    ExitFailed = 1, //!< at least one URL got no response
    ExitUsage = 2, //!< bad usage: nothing was requested
};

struct Target
{
    QString argument; //!< the URL as typed, echoed in the report
    QUrl url;
};

struct CliOptions
{
    QList<Target> targets;
    QByteArray method; //!< empty: GET, or POST when there is a body
    Reqivo::Headers headers;
    std::optional<QByteArray> body;
    QByteArray bodyContentType;
    //! -F: a multipart/form-data body (formfields.h), sent instead of body.
    std::optional<Reqivo::Multipart> form;
    //! Empty: bodies go to stdout. One entry: every body into that file, in order. One per URL:
    //! each body into its own file. "-" means stdout.
    QStringList outputFiles;

    std::optional<std::pair<QString, QString>> basicAuth;
    //! --digest: -u's credentials answer Digest challenges instead of going out as Basic.
    bool digest = false;
    std::optional<QString> bearerToken;
    std::optional<bool> followRedirects;
    std::optional<int> maxRedirects;
    std::optional<Reqivo::Timeout> timeout;
    std::optional<Reqivo::TlsOptions> tlsOptions;
    std::optional<QNetworkProxy> proxy;
    //! --noproxy LIST; unset: the environment's no_proxy (NO_PROXY) exempts hosts from --proxy
    //! too, as with curl.
    std::optional<QStringList> noProxy;
    //! --retry N: N retries (N + 1 attempts in all); unset: none.
    std::optional<int> retries;
    //! --retry-max-time S (with --retry only); Timeout::noLimit for 0.
    std::optional<std::chrono::milliseconds> retryMaxTime;
    //! --pinnedpubkey, as typed ("sha256//B64[;sha256//B64...]"); applied to every URL's host.
    QString pinnedPublicKeys;
    std::optional<bool> decompress;
    //! --http1.1, --http2, --http2-prior-knowledge (the last one given).
    std::optional<Reqivo::HttpVersion> httpVersion;

    //! -C -: each URL is a resumable download into its -o file (resume.h).
    bool resume = false;
    //! -b: the cookies of its files and NAME=VALUE strings, for the session's jar (cookiefiles.h).
    QList<QNetworkCookie> cookies;
    //! -c FILE: the jar is written there, session cookies included; empty: not written.
    QString cookieJarFile;
    bool sync = false;
    bool verbose = false;
    bool report = false; //!< --report jsonl
};

struct ParseResult
{
    std::optional<CliOptions> options;
    //! When options is empty: what to print (on stdout for exit status 0, else on stderr).
    QString message;
    int exitStatus = ExitOk;
};

ParseResult parseArguments(const QStringList &arguments);

//! A no_proxy list (--noproxy, NO_PROXY) as curl reads it: comma-separated, blanks trimmed.
QStringList splitHostList(const QString &list);

//! Applies the session-wide options (User-Agent, redirects, timeouts, auth, TLS, proxy,
//! decompression, -v's request printing) to \a session.
void configureSession(Reqivo::AsyncSession &session, const CliOptions &options);

} // namespace ReqivoCli
