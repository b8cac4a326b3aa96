// Runs the reqivo binary under test (REQIVO_BINARY) and collects what it did.
//
// The caller's event loop keeps running while the command does, so an in-process server on the
// same thread can answer it.
#pragma once

#include <QByteArray>
#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QProcess>
#include <QProcessEnvironment>
#include <QStringList>
#include <QTimer>

#ifndef REQIVO_BINARY
#error "REQIVO_BINARY must name the reqivo executable under test"
#endif

namespace ReqivoTest {

struct CliRun
{
    bool finished = false; //!< exited normally, within the time allowed
    int exitCode = -1;
    QByteArray out;
    QByteArray err;

    //! stdout's lines, without the final newline's empty one.
    QList<QByteArray> lines() const
    {
        QList<QByteArray> result = out.split('\n');
        if (!result.isEmpty() && result.last().isEmpty())
            result.removeLast();
        return result;
    }
    //! stdout's lines as JSON objects (an empty object for a line that is not one).
    QList<QJsonObject> objects() const
    {
        QList<QJsonObject> result;
        for (const QByteArray &line : lines())
            result.append(QJsonDocument::fromJson(line).object());
        return result;
    }
};

//! The environment the command runs in: the test's own, without any proxy variable (the
//! command reads them, so a developer's proxy must not leak into a test), plus \a extra.
inline QProcessEnvironment cliEnvironment(const QProcessEnvironment &extra = {})
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const QString &name : env.keys()) {
        const QString lower = name.toLower();
        if (lower.endsWith(QStringLiteral("_proxy")))
            env.remove(name);
    }
    for (const QString &name : extra.keys())
        env.insert(name, extra.value(name));
    return env;
}

inline CliRun runReqivo(const QStringList &arguments, const QByteArray &input = {},
    int timeoutMs = 30000, const QProcessEnvironment &extraEnvironment = {})
{
    CliRun run;
    QProcess process;
    process.setProgram(QStringLiteral(REQIVO_BINARY));
    process.setProcessEnvironment(cliEnvironment(extraEnvironment));
    process.setArguments(arguments);
    QEventLoop loop;
    QObject::connect(&process, &QProcess::finished, &loop, &QEventLoop::quit);
    QObject::connect(&process, &QProcess::errorOccurred, &loop, &QEventLoop::quit);
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    process.start();
    if (!process.waitForStarted())
        return run;
    process.write(input);
    process.closeWriteChannel();
    if (process.state() != QProcess::NotRunning)
        loop.exec();
    if (process.state() != QProcess::NotRunning) {
        process.kill();
        process.waitForFinished();
        run.err = process.readAllStandardError();
        qWarning("reqivo did not finish in %d ms: %s", timeoutMs, run.err.constData());
        return run;
    }
    run.finished = process.exitStatus() == QProcess::NormalExit;
    run.exitCode = process.exitCode();
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

} // namespace ReqivoTest
