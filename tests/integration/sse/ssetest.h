// The SSE tests' peer: tests/integration/sse/ssepeer.py, a streaming server on Python's
// http.server started by each test on a free loopback port and killed after it. If it cannot
// start, the test fails; it never skips.
#pragma once

#include "support/qcorotest.h"

#include <Reqivo/asynceventsource.h>
#include <Reqivo/asyncsession.h>
#include <Reqivo/errors.h>

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTest>
#include <QUrl>

namespace ReqivoTest {

class SsePeer
{
public:
    SsePeer() = default;
    ~SsePeer()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }
    SsePeer(const SsePeer &) = delete;
    SsePeer &operator=(const SsePeer &) = delete;

    bool start(QString *error)
    {
        m_process.setProgram(QStringLiteral("/usr/bin/python3"));
        m_process.setArguments({QStringLiteral(REQIVO_SSE_PEER_SCRIPT)});
        m_process.start();
        if (!m_process.waitForStarted(10000)) {
            *error = QStringLiteral("cannot start python3: %1").arg(m_process.errorString());
            return false;
        }
        QElapsedTimer timer;
        timer.start();
        while (!m_process.canReadLine() && timer.elapsed() < 20000
            && m_process.state() == QProcess::Running)
            m_process.waitForReadyRead(200);
        bool ok = false;
        m_port = m_process.readLine().trimmed().toUShort(&ok);
        if (!ok || m_port == 0) {
            *error = QStringLiteral("the SSE peer did not start: %1")
                         .arg(QString::fromLocal8Bit(m_process.readAllStandardError()));
            return false;
        }
        return true;
    }

    QUrl url(const QString &pathAndQuery) const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(pathAndQuery));
    }

    //! The requests the peer saw, oldest first (its /log).
    QCoro::Task<QJsonArray> log(Reqivo::AsyncSession &session) const
    {
        const QUrl where = url(QStringLiteral("/log"));
        const Reqivo::Response r = co_await session.get(where);
        co_return QJsonDocument::fromJson(r.body()).array();
    }

private:
    QProcess m_process;
    quint16 m_port = 0;
};

#define START_SSE_PEER(peer)                                                                       \
    do {                                                                                           \
        QString error_;                                                                            \
        QVERIFY2((peer).start(&error_), qPrintable(error_));                                       \
    } while (false)

//! Every event until the end (or \a max of them), as "type:data:id" strings.
inline QCoro::Task<QStringList> collect(Reqivo::AsyncEventSource &source, int max = 1000)
{
    QStringList seen;
    while (seen.size() < max) {
        const std::optional<Reqivo::ServerSentEvent> e = co_await source.next();
        if (!e)
            break;
        seen << QStringLiteral("%1:%2:%3").arg(e->type, e->data, e->lastEventId);
    }
    co_return seen;
}

//! The error \a task throws, or a null Error when it succeeds.
template<typename T>
QCoro::Task<Reqivo::Error> errorOf(QCoro::Task<T> task)
{
    try {
        co_await task;
    } catch (...) {
        co_return Reqivo::Error::fromException(std::current_exception());
    }
    co_return Reqivo::Error();
}

} // namespace ReqivoTest
