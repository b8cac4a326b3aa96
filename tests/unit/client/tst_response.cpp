// Reqivo::Response in streaming mode over a scripted BodyStream: Response::readAll() must not
// need the Response it was called on once it has suspended (QCoro: a member coroutine's `this`
// is a reference parameter), and what it gathers is shared by every copy of the Response.
// Run under AddressSanitizer, a use of the dead Response is a heap-use-after-free report.
#include "client/bodystream_p.h"
#include "support/qcorotest.h"

#include <Reqivo/response.h>

#include <QTest>
#include <QTimer>

#include <QCoro/QCoroTimer>

#include <memory>

using Reqivo::BodyStream;
using Reqivo::Response;

namespace {

// Hands out its pieces one read at a time, each from the event loop (a real suspension, as a
// socket read has), then an empty array at the end.
class ScriptedStream final : public BodyStream
{
public:
    explicit ScriptedStream(QList<QByteArray> pieces)
        : m_pieces(std::move(pieces))
    {
    }

    QCoro::Task<QByteArray> read(qint64 maxBytes) override
    {
        Q_UNUSED(maxBytes);
        QTimer turn;
        turn.setSingleShot(true);
        turn.start(0);
        co_await turn;
        if (m_pieces.isEmpty())
            co_return QByteArray();
        const QByteArray piece = m_pieces.takeFirst();
        m_received += piece.size();
        co_return piece;
    }
    void close() override { m_pieces.clear(); }
    bool atEnd() const override { return m_pieces.isEmpty(); }
    qint64 bytesReceived() const override { return m_received; }
    qint64 expectedSize() const override { return -1; }

private:
    QList<QByteArray> m_pieces;
    qint64 m_received = 0;
};

const QList<QByteArray> pieces {"first ", "second ", "third"};
const QByteArray whole = "first second third";

Response streamedResponse()
{
    Response r;
    r.setStatus(200, "OK");
    r.setBodyStream(std::make_shared<ScriptedStream>(pieces));
    return r;
}

} // namespace

class TestResponse : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void readAllOnADeletedResponse();
    void readAllOnATemporary();
    void readAllInAThenContinuation();
    void copiesShareWhatReadAllGathered();
    void readAllWithoutAStream();
};

void TestResponse::readAllOnADeletedResponse()
{
    RUN_CORO([]() -> QCoro::Task<void> {
        // The Response the call was made on is freed while readAll() waits for the first piece.
        auto *response = new Response(streamedResponse());
        QCoro::Task<QByteArray> all = response->readAll();
        delete response;
        CO_COMPARE(co_await all, whole);
    }());
}

void TestResponse::readAllOnATemporary()
{
    RUN_CORO([]() -> QCoro::Task<void> {
        const Response original = streamedResponse();
        // The temporary copy dies at the end of the statement; its task runs on.
        QCoro::Task<QByteArray> all = Response(original).readAll();
        CO_COMPARE(co_await all, whole);
        CO_COMPARE(original.body(), whole);
    }());
}

void TestResponse::readAllInAThenContinuation()
{
    RUN_CORO([]() -> QCoro::Task<void> {
        // The review's case: the continuation's parameter dies when the lambda returns, before
        // the Task it returned has resumed even once.
        auto ready = []() -> QCoro::Task<Response> { co_return streamedResponse(); };
        const QByteArray body = co_await ready().then(
            [](Response r) -> QCoro::Task<QByteArray> { return r.readAll(); });
        CO_COMPARE(body, whole);
    }());
}

void TestResponse::copiesShareWhatReadAllGathered()
{
    RUN_CORO([]() -> QCoro::Task<void> {
        Response a = streamedResponse();
        Response b = a;
        CO_VERIFY(a.body().isEmpty()); // nothing read yet
        CO_COMPARE(co_await b.readAll(), whole);
        // Every copy sees the body, the one that read it and the others alike.
        CO_COMPARE(b.body(), whole);
        CO_COMPARE(a.body(), whole);
        CO_COMPARE(Response(a).text(), QString::fromLatin1(whole));
        // The stream is at its end: a second readAll() returns the same body again.
        CO_COMPARE(co_await a.readAll(), whole);
        CO_COMPARE(a.bytesReceived(), qint64(whole.size()));
    }());
}

void TestResponse::readAllWithoutAStream()
{
    RUN_CORO([]() -> QCoro::Task<void> {
        Response r;
        r.setStatus(200, "OK");
        r.setBody("buffered");
        CO_COMPARE(co_await Response(r).readAll(), QByteArray("buffered"));
    }());
}

QTEST_GUILESS_MAIN(TestResponse)
#include "tst_response.moc"
