// Helpers for the Reply tests: a ReplyWatch records every signal a Reply emits, in order, with
// its arguments, so a test can assert "exactly one of finished() or errorOccurred(), after
// send() returned, with this Response" and also what came before it (progress, readyRead).
//
// The watch connects with a context object of its own, not through QSignalSpy: it must keep
// working while the Reply is deleted from one of its own slots, and a deleted Reply must simply
// stop adding entries.
#pragma once

#include "integration/sync/synctest.h"

#include <Reqivo/Reply>

#include <QCoreApplication>
#include <QEventLoop>
#include <QObject>
#include <QPointer>
#include <QThread>
#include <QTimer>

namespace ReplyTest {

using namespace std::chrono_literals;

//! Delivers everything already queued for this thread: its posted events (queued signals and
//! calls), then one turn of its event loop (a zero timer), which also handles the socket events
//! that are ready. For "nothing more happens" checks, instead of waiting a while.
inline void flushEvents()
{
    QCoreApplication::sendPostedEvents();
    QEventLoop loop;
    QTimer::singleShot(0, &loop, &QEventLoop::quit);
    loop.exec();
}

struct ReplyWatch
{
    QObject context;
    QPointer<Reqivo::Reply> reply;
    QStringList events; //!< "finished", "errorOccurred", "runningChanged", "readyRead", ...
    int finished = 0;
    int errors = 0;
    Reqivo::Response response;
    Reqivo::Error error;
    QList<std::pair<qint64, qint64>> download;
    QList<std::pair<qint64, qint64>> upload;
    int readyReads = 0;
    QByteArray streamed; //!< what readAll() gave in readyRead()
    bool readOnReadyRead = true;
    QThread *finishedThread = nullptr;

    explicit ReplyWatch(Reqivo::Reply *r)
        : reply(r)
    {
        using Reqivo::Reply;
        QObject::connect(r, &Reply::finished, &context, [this](const Reqivo::Response &resp) {
            events.append(QStringLiteral("finished"));
            ++finished;
            response = resp;
            finishedThread = QThread::currentThread();
        });
        QObject::connect(r, &Reply::errorOccurred, &context, [this](const Reqivo::Error &e) {
            events.append(QStringLiteral("errorOccurred"));
            ++errors;
            error = e;
            finishedThread = QThread::currentThread();
        });
        QObject::connect(r, &Reply::runningChanged, &context,
            [this] { events.append(QStringLiteral("runningChanged")); });
        QObject::connect(r, &Reply::downloadProgress, &context, [this](qint64 got, qint64 total) {
            download.append({got, total});
        });
        QObject::connect(r, &Reply::uploadProgress, &context, [this](qint64 sent, qint64 total) {
            upload.append({sent, total});
        });
        QObject::connect(r, &Reply::readyRead, &context, [this] {
            ++readyReads;
            if (readOnReadyRead && reply)
                streamed += reply->readAll();
        });
    }

    //! At the end of the test: a second outcome, however late it came, fails the test.
    ~ReplyWatch()
    {
        flushEvents();
        if (outcomes() > 1)
            QTest::qFail(qPrintable(QStringLiteral("more than one outcome: ") + describe()),
                __FILE__, __LINE__);
    }

    int outcomes() const { return finished + errors; }
    //! Waits for finished() or errorOccurred(), then delivers what is already queued, so that
    //! a second outcome sent right behind the first one is counted too.
    bool waitForOutcome(std::chrono::milliseconds limit = 20s)
    {
        const bool got = QTest::qWaitFor([this] { return outcomes() > 0; }, int(limit.count()));
        flushEvents();
        return got;
    }
    QString describe() const
    {
        return events.join(QLatin1Char(' ')) + QStringLiteral(" | ")
            + (errors ? error.toString() : QStringLiteral("status %1").arg(response.status()));
    }
};

//! True when \a progress never goes down and always reports \a total.
inline bool isMonotonic(const QList<std::pair<qint64, qint64>> &progress, qint64 total)
{
    qint64 last = -1;
    for (const auto &[done, all] : progress) {
        if (done < last || all != total)
            return false;
        last = done;
    }
    return true;
}

} // namespace ReplyTest

//! The watch saw exactly one outcome, finished(), and no error.
#define EXPECT_FINISHED(watch)                                                                     \
    do {                                                                                           \
        QVERIFY2((watch).finished == 1 && (watch).errors == 0, qPrintable((watch).describe()));    \
    } while (false)

//! The watch saw exactly one outcome, errorOccurred() with an error of class \a className.
#define EXPECT_ERROR_SIGNAL(watch, className)                                                      \
    do {                                                                                           \
        QVERIFY2((watch).errors == 1 && (watch).finished == 0, qPrintable((watch).describe()));    \
        QCOMPARE((watch).error.typeName(), QStringLiteral(className));                             \
    } while (false)
