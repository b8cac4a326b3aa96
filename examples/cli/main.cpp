// reqivo: a curl-like command on the Reqivo library.
//
//   reqivo [options] URL [URL...]
//   reqivo sse [options] URL          a Server-Sent Events stream (sse.cpp)
//   reqivo ws [options] URL           a WebSocket: stdin lines out, messages in (ws.cpp)
//
// Each URL is requested in order through one session, so the second request to a host reuses
// the first one's keep-alive connection. By default that is an AsyncSession driven by one
// coroutine inside the application's event loop, which it ends with the exit status; --sync uses
// the blocking Session instead, with no running loop. Exit status: 0 when every URL got a
// response (whatever its status), 1 when one did not, 2 for bad usage. Bodies are streamed (to
// stdout or to -o FILE) unless --report jsonl needs them whole for its base64 "body" field.
#include "cliopts.h"
#include "cookiefiles.h"
#include "output.h"
#include "resume.h"
#include "sse.h"
#include "ws.h"

#include <Reqivo/asyncsession.h>
#include <Reqivo/response.h>
#include <Reqivo/session.h>

#include <QCoreApplication>
#include <QFile>
#include <QLoggingCategory>
#include <QTimer>

#include <QCoro/QCoroTask>

#include <cstdio>
#include <memory>
#include <vector>

using namespace Qt::StringLiterals;
using namespace ReqivoCli;

namespace {

using Files = std::vector<std::unique_ptr<QFile>>;

// The sink of the URL at \a index: stdout without -o, the one -o file, or its own.
Sink sinkFor(const Files &files, qsizetype index)
{
    if (files.empty())
        return {};
    return Sink {files.size() == 1 ? files.front().get() : files.at(size_t(index)).get()};
}

int finish(int status, const Files &files)
{
    std::fflush(stdout);
    for (const auto &file : files) {
        if (file && !file->flush())
            status = ExitFailed;
    }
    return status;
}

QCoro::Task<bool> fetchAsync(Reqivo::AsyncSession &session, Output &out, const QUrl &url)
{
    try {
        Reqivo::Response response
            = co_await session.request(out.method(), url, out.requestOptions());
        out.started(response);
        if (out.streamed()) {
            for (;;) {
                const QByteArray chunk = co_await response.readChunk();
                if (chunk.isEmpty())
                    break;
                out.write(response, chunk);
            }
        }
        out.finished(response);
        co_return true;
    } catch (...) {
        out.failed(std::current_exception());
        co_return false;
    }
}

QCoro::Task<int> runAsync(
    Reqivo::AsyncSession &session, const CliOptions &options, const Files &files)
{
    int status = ExitOk;
    for (qsizetype i = 0; i < options.targets.size(); ++i) {
        Output out(options, options.targets.at(i), sinkFor(files, i));
        if (!co_await fetchAsync(session, out, options.targets.at(i).url))
            status = ExitFailed;
    }
    co_return finish(status, files);
}

bool fetchSync(Reqivo::Session &session, Output &out, const QUrl &url)
{
    try {
        Reqivo::Response response = session.request(out.method(), url, out.requestOptions());
        out.started(response);
        if (out.streamed()) {
            for (;;) {
                const QByteArray chunk = Reqivo::Session::readChunk(response);
                if (chunk.isEmpty())
                    break;
                out.write(response, chunk);
            }
        }
        out.finished(response);
        return true;
    } catch (...) {
        out.failed(std::current_exception());
        return false;
    }
}

int runSync(Reqivo::Session &session, const CliOptions &options, const Files &files)
{
    int status = ExitOk;
    for (qsizetype i = 0; i < options.targets.size(); ++i) {
        Output out(options, options.targets.at(i), sinkFor(files, i));
        if (!fetchSync(session, out, options.targets.at(i).url))
            status = ExitFailed;
    }
    return finish(status, files);
}

} // namespace

// Session settings from the options; the blocking Session keeps its settings in its
// AsyncSession, so this serves both (and reqivo sse).
void ReqivoCli::configureSession(Reqivo::AsyncSession &session, const CliOptions &o)
{
    session.setDefaultHeader(
        "User-Agent", QByteArray("reqivo/") + QByteArray(Reqivo::versionString()));
    if (o.followRedirects)
        session.setFollowRedirects(*o.followRedirects);
    if (o.maxRedirects)
        session.setMaxRedirects(*o.maxRedirects);
    if (o.timeout)
        session.setTimeout(*o.timeout);
    if (o.basicAuth && o.digest)
        session.setDigestAuth(o.basicAuth->first, o.basicAuth->second);
    else if (o.basicAuth)
        session.setBasicAuth(o.basicAuth->first, o.basicAuth->second);
    if (o.bearerToken)
        session.setBearerToken(*o.bearerToken);
    if (o.tlsOptions)
        session.setTlsOptions(*o.tlsOptions);
    // The environment's proxies are the session's default; --proxy beats them. Hosts are
    // exempted from any proxy by --noproxy, else by no_proxy (NO_PROXY) as curl reads it, which
    // also applies to a --proxy proxy.
    if (o.proxy)
        session.setProxy(*o.proxy);
    if (o.noProxy) {
        session.setNoProxy(*o.noProxy);
    } else if (o.proxy) {
        QByteArray env = qgetenv("no_proxy");
        if (env.isNull())
            env = qgetenv("NO_PROXY");
        const QStringList hosts = splitHostList(QString::fromLocal8Bit(env));
        if (!hosts.isEmpty())
            session.setNoProxy(hosts);
    }
    if (o.retries) {
        Reqivo::RetryPolicy retry = Reqivo::RetryPolicy::attempts(*o.retries + 1);
        if (o.retryMaxTime)
            retry.maxRetryTime = *o.retryMaxTime;
        session.setRetryPolicy(retry);
    }
    if (o.decompress)
        session.setDecompress(*o.decompress);
    if (o.httpVersion)
        session.setHttpVersion(*o.httpVersion);
    applyCookies(session, o); // -b and -c
    if (o.verbose) // runs for every request the session sends, redirects included
        session.addRequestHook([](Reqivo::PreparedRequest &request) { printRequestHead(request); });
}

int main(int argc, char *argv[])
{
    reserveStdin();
    QCoreApplication app(argc, argv);
    // The library's debug logs are for its developers, not for the command's output; they can
    // still be turned on with QT_LOGGING_RULES, which takes precedence over this rule.
    QLoggingCategory::setFilterRules(u"reqivo.*.debug=false"_s);
    QCoreApplication::setApplicationName(u"reqivo"_s);
    QCoreApplication::setApplicationVersion(QString::fromLatin1(Reqivo::versionString()));

    const QStringList arguments = QCoreApplication::arguments();
    if (arguments.value(1) == u"sse"_s)
        return runSse(arguments);
    if (arguments.value(1) == u"ws"_s)
        return runWs(arguments);
    ParseResult parsed = parseArguments(arguments);
    if (!parsed.options) {
        if (parsed.exitStatus == ExitOk) {
            writeStdout(parsed.message.toLocal8Bit());
            std::fflush(stdout);
        } else {
            printErr(parsed.message + u'\n');
        }
        return parsed.exitStatus;
    }
    const CliOptions &options = *parsed.options;
    if (options.resume) // -C -: downloads through side files, FILE untouched until complete
        return runResume(options);

    // Output files are opened (and truncated) before the first request, so a path that cannot be
    // written is bad usage rather than a failure halfway through.
    Files files;
    for (const QString &path : options.outputFiles) {
        if (path == u"-"_s) {
            if (options.report) {
                printErr(u"reqivo: -o - would mix bodies into the --report output\n"_s);
                return ExitUsage;
            }
            files.push_back(nullptr);
            continue;
        }
        auto file = std::make_unique<QFile>(path);
        if (!file->open(QIODevice::WriteOnly | QIODevice::Truncate)) {
            printErr(u"reqivo: cannot write %1: %2\n"_s.arg(path, file->errorString()));
            return ExitUsage;
        }
        files.push_back(std::move(file));
    }

    if (options.sync) {
        Reqivo::Session session;
        configureSession(session.async(), options);
        return runSync(session, options, files);
    }

    Reqivo::AsyncSession session;
    configureSession(session, options);
    QTimer::singleShot(0, &app, [&session, &options, &files, &app] {
        QCoro::connect(runAsync(session, options, files), &app,
            [](int status) { QCoreApplication::exit(status); });
    });
    return QCoreApplication::exec();
}
