// The pipeline's upload promises through the blocking Session: the nested event loop delivers a
// pausing producer's data, the body ends only at the producer's real end, and a stalled producer
// is a WriteTimeout. (The co_await path: tests/integration/session/tst_session_pipeline.cpp.)
#include "synctest.h"
#include "threadedserver.h"

#include <Reqivo/Body>
#include <Reqivo/Session>

#include <QProcess>
#include <QTest>

using namespace Qt::StringLiterals;
using Reqivo::Body;
using Reqivo::Session;
using Reqivo::Timeout;
using ReqivoTest::ReceivedRequest;
using ReqivoTest::ServerConnection;
using namespace SyncTest;

class TestSyncPipeline : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void pausingProcessUploadIsWhole()
    {
        ThreadedServer server([](ServerConnection &c, const ReceivedRequest &r) {
            c.write(ReqivoTest::httpResponse(200, r.body));
        });
        QProcess producer;
        producer.start(u"/bin/sh"_s,
            {u"-c"_s, u"printf abc; sleep 0.3; printf def; sleep 0.3; printf ghi"_s});
        QVERIFY(producer.waitForStarted());
        Session session;
        const Outcome o
            = attempt([&] { return session.post(server.url(), Body::fromDevice(&producer)); });
        EXPECT_OK(o);
        QCOMPARE(o.response.body(), QByteArray("abcdefghi"));
        QVERIFY(server.requests().value(0).chunked);
    }

    void stalledProcessIsWriteTimeout()
    {
        ThreadedServer server([](ServerConnection &c, const ReceivedRequest &r) {
            c.write(ReqivoTest::httpResponse(200, r.body));
        });
        QProcess producer;
        // Prints, then stays silent far longer than the write timeout.
        producer.start(u"/bin/sh"_s, {u"-c"_s, u"printf abc; exec sleep 30"_s});
        QVERIFY(producer.waitForStarted());
        Session session;
        Timeout t;
        t.write = 200ms;
        session.setTimeout(t);
        const Outcome o
            = attempt([&] { return session.post(server.url(), Body::fromDevice(&producer)); });
        EXPECT_ERROR(o, "WriteTimeout");
        QCOMPARE(server.requestCount(), qsizetype(0)); // no complete (truncated) body arrived
        producer.kill();
        producer.waitForFinished();
    }
};

QTEST_GUILESS_MAIN(TestSyncPipeline)
#include "tst_sync_pipeline.moc"
