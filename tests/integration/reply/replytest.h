// Helpers for the Reply tests: a ReplyWatch records every signal a Reply emits, in order, with
// its arguments, so a test can assert "finished() exactly once, last, after send() returned,
// with this Response or this error" and also what came before it (metaDataChanged, progress,
// readyRead, errorOccurred).
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
    //! "metaDataChanged", "runningChanged", "errorOccurred", "finished" (readyRead and progress
    //! are counted apart)
    QStringList events;
    int finished = 0;
    int errors = 0;
    int metaData = 0;
    Reqivo::Response response; //!< Reply::response() when finished() came
    Reqivo::Error error; //!< what errorOccurred() carried
    Reqivo::Error errorAtFinish; //!< Reply::error() when finished() came
    Reqivo::Response metaDataResponse; //!< Reply::response() when metaDataChanged() came
    int readyReadsBeforeMetaData = 0;
    int afterFinished = 0; //!< signals of any kind that came after finished()
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
        QObject::connect(r, &Reply::finished, &context, [this, r] {
            afterFinished += finished;
            events.append(QStringLiteral("finished"));
            ++finished;
            response = r->response(); // the Reply is alive while it emits
            errorAtFinish = r->error();
            finishedThread = QThread::currentThread();
        });
        QObject::connect(r, &Reply::metaDataChanged, &context, [this, r] {
            afterFinished += finished;
            events.append(QStringLiteral("metaDataChanged"));
            ++metaData;
            metaDataResponse = r->response();
            readyReadsBeforeMetaData = readyReads;
        });
        QObject::connect(r, &Reply::errorOccurred, &context, [this](const Reqivo::Error &e) {
            afterFinished += finished;
            events.append(QStringLiteral("errorOccurred"));
            ++errors;
            error = e;
        });
        QObject::connect(r, &Reply::runningChanged, &context,
            [this] {
                afterFinished += finished;
                events.append(QStringLiteral("runningChanged"));
            });
        QObject::connect(r, &Reply::downloadProgress, &context, [this](qint64 got, qint64 total) {
            afterFinished += finished;
            download.append({got, total});
        });
        QObject::connect(r, &Reply::uploadProgress, &context, [this](qint64 sent, qint64 total) {
            afterFinished += finished;
            upload.append({sent, total});
        });
        QObject::connect(r, &Reply::readyRead, &context, [this] {
            afterFinished += finished;
            ++readyReads;
            if (readOnReadyRead && reply)
                streamed += reply->readAll();
        });
    }

    //! At the end of the test: a second finished(), errorOccurred() or metaDataChanged(), or
    //! any signal after finished(), however late it came, fails the test.
    ~ReplyWatch()
    {
        flushEvents();
        if (finished > 1 || errors > 1 || metaData > 1 || afterFinished > 0)
            QTest::qFail(qPrintable(QStringLiteral("a signal came twice or after finished(): ") + describe()),
                __FILE__, __LINE__);
    }

    //! How many times the request ended (finished()): 1 for every request not destroyed first.
    int outcomes() const { return finished; }
    //! Waits for finished(), then delivers what is already queued, so that a second one sent
    //! right behind the first is counted too.
    bool waitForOutcome(std::chrono::milliseconds limit = 20s)
    {
        const bool got = QTest::qWaitFor([this] { return outcomes() > 0; }, int(limit.count()));
        flushEvents();
        return got;
    }
    QString describe() const
    {
        return events.join(QLatin1Char(' ')) + QStringLiteral(" | ")
            + (errors || errorAtFinish ? (errors ? error : errorAtFinish).toString()
                                       : QStringLiteral("status %1").arg(response.status()));
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

//! The watch saw a response: finished() once, last, no error, and the status and headers
//! announced once before.
#define EXPECT_FINISHED(watch)                                                                     \
    do {                                                                                           \
        QVERIFY2((watch).finished == 1 && (watch).errors == 0 && (watch).errorAtFinish.isNull()    \
                && (watch).metaData == 1 && (watch).events.last() == QStringLiteral("finished")    \
                && (watch).afterFinished == 0,                                                     \
            qPrintable((watch).describe()));                                                       \
    } while (false)

//! The watch saw a failure: errorOccurred() once with an error of class \a className, then
//! finished() once, last, with Reply::error() the same error and no response.
#define EXPECT_ERROR_SIGNAL(watch, className)                                                      \
    do {                                                                                           \
        QVERIFY2((watch).errors == 1 && (watch).finished == 1 && (watch).afterFinished == 0        \
                && (watch).events.last() == QStringLiteral("finished")                             \
                && (watch).events.indexOf(QStringLiteral("errorOccurred"))                         \
                    == (watch).events.size() - 2,                                                  \
            qPrintable((watch).describe()));                                                       \
        QCOMPARE((watch).error.typeName(), QString::fromLatin1(className));                        \
        QCOMPARE((watch).errorAtFinish, (watch).error);                                            \
        QVERIFY((watch).response.isNull());                                                        \
    } while (false)
