#include "resume.h"

#include "output.h"
#include "report.h"

#include <Reqivo/asyncsession.h>
#include <Reqivo/download.h>
#include <Reqivo/session.h>

#include <QCoreApplication>
#include <QTimer>

#include <QCoro/QCoroTask>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace ReqivoCli {

namespace {

Reqivo::DownloadOptions downloadOptions(const CliOptions &options)
{
    Reqivo::RequestOptions request;
    request.headers = options.headers;
    // -C -: a FILE without side files is another tool's partial download, resumed from its size.
    return Reqivo::DownloadOptions().withResumeExistingFile().withRequestOptions(request);
}

QString fileFor(const CliOptions &options, qsizetype index)
{
    return options.outputFiles.size() == 1 ? options.outputFiles.front()
                                           : options.outputFiles.at(index);
}

// The outcome of one URL: the report line, or -v's heads and a note for a status that did not
// deliver the file. True when a response came.
bool reportResult(
    const CliOptions &options, const Target &target, const Reqivo::DownloadResult &result)
{
    Output out(options, target, Sink {});
    out.started(result.response); // -v: the response heads
    if (options.report) {
        writeStdout(
            reportResponse(target.argument, result.response, {}, result.bytesReceived) + '\n');
        std::fflush(stdout);
    } else if (!result.isComplete()) {
        printErr(u"reqivo: %1: %2 %3, %4 not written\n"_s.arg(target.argument)
                     .arg(result.status())
                     .arg(QString::fromLatin1(result.response.reason()), result.filePath));
    }
    return true;
}

bool reportFailure(const CliOptions &options, const Target &target, std::exception_ptr error)
{
    Output out(options, target, Sink {});
    out.failed(error);
    return false;
}

QCoro::Task<bool> downloadAsync(
    Reqivo::AsyncSession &session, const CliOptions &options, const Target &target, QString file)
{
    try {
        const Reqivo::DownloadResult result
            = co_await session.download(target.url, file, downloadOptions(options));
        co_return reportResult(options, target, result);
    } catch (...) {
        co_return reportFailure(options, target, std::current_exception());
    }
}

QCoro::Task<int> runAsync(Reqivo::AsyncSession &session, const CliOptions &options)
{
    int status = ExitOk;
    for (qsizetype i = 0; i < options.targets.size(); ++i) {
        if (!co_await downloadAsync(session, options, options.targets.at(i), fileFor(options, i)))
            status = ExitFailed;
    }
    std::fflush(stdout);
    co_return status;
}

} // namespace

QString applyContinueAt(CliOptions *options, const QString &value)
{
    if (value != u"-"_s) {
        bool number = false;
        value.toLongLong(&number);
        return number ? u"-C %1: only '-C -' is supported (continue from where FILE, or its "
                        "side file FILE.part, ends)"_s.arg(value)
                      : u"-C needs '-' (continue from where FILE, or its side file, ends)"_s;
    }
    if (options->outputFiles.isEmpty())
        return u"-C - needs -o FILE"_s;
    if (options->outputFiles.size() != options->targets.size())
        return u"-C - needs one -o FILE per URL (%1 URLs, %2 -o)"_s.arg(options->targets.size())
            .arg(options->outputFiles.size());
    for (const QString &file : std::as_const(options->outputFiles)) {
        if (file == u"-"_s)
            return u"-C - cannot continue stdout: give -o FILE"_s;
    }
    if (options->body || options->form || (!options->method.isEmpty() && options->method != "GET"))
        return u"-C - downloads with GET: no -d, --json, -F or -X"_s;
    options->resume = true;
    return {};
}

int runResume(const CliOptions &options)
{
    if (options.sync) {
        Reqivo::Session session;
        configureSession(session.async(), options);
        int status = ExitOk;
        for (qsizetype i = 0; i < options.targets.size(); ++i) {
            const Target &target = options.targets.at(i);
            try {
                const Reqivo::DownloadResult result
                    = session.download(target.url, fileFor(options, i), downloadOptions(options));
                reportResult(options, target, result);
            } catch (...) {
                reportFailure(options, target, std::current_exception());
                status = ExitFailed;
            }
        }
        std::fflush(stdout);
        return status;
    }
    Reqivo::AsyncSession session;
    configureSession(session, options);
    QTimer::singleShot(0, QCoreApplication::instance(), [&session, &options] {
        QCoro::connect(runAsync(session, options), QCoreApplication::instance(),
            [](int status) { QCoreApplication::exit(status); });
    });
    return QCoreApplication::exec();
}

} // namespace ReqivoCli
