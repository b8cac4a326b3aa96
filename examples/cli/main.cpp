// reqivo: a curl-like command on the Reqivo library.
//
//   reqivo [options] URL [URL...]
//
// Each URL is requested in order through one AsyncSession, so the second request to a host reuses
// the first one's keep-alive connection. One coroutine does the work inside the application's
// event loop and ends it with the exit status: 0 when every URL got a response (whatever its
// status), 1 when one did not, 2 for bad usage. Bodies are streamed (to stdout or to -o FILE)
// unless --report jsonl needs them whole for its base64 "body" field.
#include "cliopts.h"
#include "progressbar.h"
#include "report.h"

#include <Reqivo/asyncsession.h>
#include <Reqivo/body.h>
#include <Reqivo/errors.h>
#include <Reqivo/requestoptions.h>
#include <Reqivo/response.h>

#include <QCoreApplication>
#include <QFile>
#include <QTimer>

#include <QCoro/QCoroTask>

#include <cstdio>
#include <memory>
#include <vector>

using namespace Qt::StringLiterals;
using namespace ReqivoCli;

namespace {

void writeStdout(QByteArrayView bytes)
{
    std::fwrite(bytes.data(), 1, size_t(bytes.size()), stdout);
}

void printErr(const QString &text)
{
    const QByteArray bytes = text.toLocal8Bit();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stderr);
    std::fflush(stderr);
}

// Where one URL's body goes: stdout (file == nullptr) or an open file.
struct Sink
{
    QFile *file = nullptr;

    bool write(QByteArrayView bytes) const
    {
        if (!file) {
            writeStdout(bytes);
            return !std::ferror(stdout);
        }
        return file->write(bytes.data(), bytes.size()) == bytes.size();
    }
};

void printResponseHead(const Reqivo::Response &response)
{
    QByteArray head;
    head += "< HTTP/" + response.httpVersion().toLatin1() + ' '
            + QByteArray::number(response.status()) + ' ' + response.reason() + '\n';
    for (const auto &field : response.headers())
        head += "< " + field.name.toByteArray() + ": " + field.value.toByteArray() + '\n';
    head += "<\n";
    std::fwrite(head.constData(), 1, size_t(head.size()), stderr);
    std::fflush(stderr);
}

class Runner
{
public:
    Runner(const CliOptions &options, Reqivo::AsyncSession &session,
           std::vector<std::unique_ptr<QFile>> &files)
        : m_options(options), m_session(session), m_files(files)
    {
    }

    QCoro::Task<int> run()
    {
        int status = ExitOk;
        for (qsizetype i = 0; i < m_options.targets.size(); ++i) {
            if (!co_await fetch(m_options.targets.at(i), sinkFor(i)))
                status = ExitFailed;
        }
        std::fflush(stdout);
        for (auto &file : m_files) {
            if (file && !file->flush())
                status = ExitFailed;
        }
        co_return status;
    }

private:
    Sink sinkFor(qsizetype index) const
    {
        if (m_files.empty())
            return {};
        return Sink{m_files.size() == 1 ? m_files.front().get() : m_files.at(size_t(index)).get()};
    }

    QCoro::Task<bool> fetch(const Target &target, Sink sink)
    {
        Reqivo::RequestOptions request;
        request.headers = m_options.headers;
        if (m_options.body)
            request.body = Reqivo::Body::fromBytes(*m_options.body, m_options.bodyContentType);
        // The report carries the body itself, so it is buffered; anything else is streamed.
        const bool buffered = m_options.report && !sink.file;
        request.stream = !buffered;
        const QByteArray method = !m_options.method.isEmpty() ? m_options.method
                : m_options.body                               ? QByteArray("POST")
                                                               : QByteArray("GET");

        ProgressBar progress(sink.file && stderrIsTerminal());
        qint64 length = 0;
        qint64 expected = -1;
        try {
            Reqivo::Response response = co_await m_session.request(method, target.url, request);
            if (m_options.verbose) {
                for (const Reqivo::Response &hop : response.history())
                    printResponseHead(hop);
                printResponseHead(response);
            }
            QByteArray body;
            if (buffered) {
                body = response.body();
                length = body.size();
            } else {
                expected = response.expectedSize();
                for (;;) {
                    const QByteArray chunk = co_await response.readChunk();
                    if (chunk.isEmpty())
                        break;
                    if (!sink.write(chunk)) {
                        response.close();
                        throw Reqivo::ReqivoError(u"cannot write %1: %2"_s.arg(
                                sink.file ? sink.file->fileName() : u"stdout"_s,
                                sink.file ? sink.file->errorString() : u"write error"_s));
                    }
                    length += chunk.size();
                    progress.update(length, expected);
                }
                progress.finish(length, expected);
            }
            if (m_options.report) {
                writeStdout(reportResponse(target.argument, response, body, length) + '\n');
                std::fflush(stdout);
            }
            co_return true;
        } catch (...) {
            progress.finish(length, expected);
            const Reqivo::Error error = Reqivo::Error::fromException(std::current_exception());
            if (m_options.report) {
                writeStdout(reportError(target.argument, error) + '\n');
                std::fflush(stdout);
            } else {
                std::fflush(stdout);
                printErr(u"reqivo: %1: %2\n"_s.arg(target.argument, error.toString()));
            }
            co_return false;
        }
    }

    const CliOptions &m_options;
    Reqivo::AsyncSession &m_session;
    std::vector<std::unique_ptr<QFile>> &m_files;
};

void configure(Reqivo::AsyncSession &session, const CliOptions &o)
{
    session.setDefaultHeader("User-Agent",
                             QByteArray("reqivo/") + QByteArray(Reqivo::versionString()));
    if (o.followRedirects)
        session.setFollowRedirects(*o.followRedirects);
    if (o.maxRedirects)
        session.setMaxRedirects(*o.maxRedirects);
    if (o.timeout)
        session.setTimeout(*o.timeout);
    if (o.basicAuth)
        session.setBasicAuth(o.basicAuth->first, o.basicAuth->second);
    if (o.bearerToken)
        session.setBearerToken(*o.bearerToken);
    if (o.tlsOptions)
        session.setTlsOptions(*o.tlsOptions);
    if (o.proxy)
        session.setProxy(*o.proxy);
    if (o.decompress)
        session.setDecompress(*o.decompress);
    if (o.verbose) {
        // Runs for every request the session sends, redirects included.
        session.addRequestHook([](Reqivo::PreparedRequest &request) {
            QByteArray head = "> " + request.method + ' '
                    + request.url.toString(QUrl::FullyEncoded).toLatin1() + '\n';
            for (const auto &field : request.headers)
                head += "> " + field.name.toByteArray() + ": " + field.value.toByteArray() + '\n';
            head += ">\n";
            std::fwrite(head.constData(), 1, size_t(head.size()), stderr);
            std::fflush(stderr);
        });
    }
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"reqivo"_s);
    QCoreApplication::setApplicationVersion(QString::fromLatin1(Reqivo::versionString()));

    ParseResult parsed = parseArguments(QCoreApplication::arguments());
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

    if (options.sync) {
        printErr(u"reqivo: --sync is not available yet: the blocking Session arrives with issue 4. "
                 "Run without --sync to use the async session.\n"_s);
        return ExitUsage;
    }

    // Output files are opened (and truncated) before the first request, so a path that cannot be
    // written is bad usage rather than a failure halfway through.
    std::vector<std::unique_ptr<QFile>> files;
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

    Reqivo::AsyncSession session;
    configure(session, options);
    Runner runner(options, session, files);

    QTimer::singleShot(0, &app, [&runner, &app] {
        QCoro::connect(runner.run(), &app, [](int status) { QCoreApplication::exit(status); });
    });
    return QCoreApplication::exec();
}
