// Ending a request in every phase, through every way there is: Reply::abort(), the destruction of
// the cancelWith() owner, and the destruction of the session. Each phase's own timeout is a
// minute, so a request that ends with RequestError "aborted" (or "session destroyed") well within
// the test's watchdog was ended by the abort, not by a timeout. Afterwards the pool has nothing
// checked out.
#include "faultserver.h"
#include "sessiontest.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Body>
#include <Reqivo/Reply>
#include <Reqivo/asyncconnectionpool.h>

#include <QTcpServer>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <memory>

#ifndef Q_OS_LINUX
#error "tst_session_abort needs Linux (a full accept queue drops SYNs)"
#endif

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncConnectionPool;
using Reqivo::AsyncSession;
using Reqivo::Body;
using Reqivo::PoolOptions;
using Reqivo::Reply;
using Reqivo::RequestOptions;
using Reqivo::Timeout;

namespace {

enum class Phase { PoolSlot, TcpConnect, TlsHandshake, Head, Body, Upload };
enum class Trigger { ReplyAbort, OwnerDestroyed, SessionDestroyed };

// A session over a pool of one connection per host (for the pool-slot phase).
class SmallPoolSession : public AsyncSession
{
public:
    explicit SmallPoolSession(AsyncConnectionPool *pool) : AsyncSession(pool, true, nullptr) { }
};

// A listening socket on 127.0.0.1 whose accept queue is full: further SYNs are dropped, so a
// connect neither succeeds nor fails.
class FullListener
{
public:
    FullListener()
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a {};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0
            || ::listen(m_fd, 0) != 0
            || ::getsockname(m_fd, reinterpret_cast<sockaddr *>(&a), &len) != 0)
            qFatal("FullListener: cannot listen");
        m_port = ntohs(a.sin_port);
        for (int i = 0; i < 3; ++i) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            ::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
            m_fillers.push_back(fd);
        }
    }
    ~FullListener()
    {
        for (int fd : m_fillers)
            ::close(fd);
        ::close(m_fd);
    }
    quint16 port() const { return m_port; }

private:
    int m_fd = -1;
    quint16 m_port = 0;
    std::vector<int> m_fillers;
};

// A sequential device that never produces: an upload waits on it.
class SilentDevice : public QIODevice
{
public:
    SilentDevice() { open(QIODevice::ReadOnly); }
    bool isSequential() const override { return true; }

protected:
    qint64 readData(char *, qint64) override { return 0; }
    qint64 writeData(const char *, qint64) override { return -1; }
};

struct Ended
{
    bool done = false;
    Reqivo::Error error;
};

QCoro::Task<void> awaitInto(QCoro::Task<Reqivo::Response> task, std::shared_ptr<Ended> out)
{
    try {
        co_await std::move(task);
    } catch (...) {
        out->error = Reqivo::Error::fromException(std::current_exception());
    }
    out->done = true;
}

} // namespace

Q_DECLARE_METATYPE(Phase)
Q_DECLARE_METATYPE(Trigger)

class TestSessionAbort : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void endsInEveryPhase_data()
    {
        QTest::addColumn<Phase>("phase");
        QTest::addColumn<Trigger>("trigger");
        const std::pair<Phase, const char *> phases[] = {{Phase::PoolSlot, "waiting for a slot"},
            {Phase::TcpConnect, "TCP connect"}, {Phase::TlsHandshake, "TLS handshake"},
            {Phase::Head, "waiting for the head"}, {Phase::Body, "reading the body"},
            {Phase::Upload, "uploading from a silent device"}};
        const std::pair<Trigger, const char *> triggers[] = {
            {Trigger::ReplyAbort, "Reply::abort()"}, {Trigger::OwnerDestroyed, "owner destroyed"},
            {Trigger::SessionDestroyed, "session destroyed"}};
        for (const auto &[phase, phaseName] : phases) {
            for (const auto &[trigger, triggerName] : triggers)
                QTest::addRow("%s, %s", phaseName, triggerName) << phase << trigger;
        }
    }

    void endsInEveryPhase()
    {
        QFETCH(Phase, phase);
        QFETCH(Trigger, trigger);

        // The peers of each phase.
        FaultServer server([phase](ServerConnection &c, const ReceivedRequest &r) {
            if (r.target == "/hold" || phase == Phase::Body)
                c.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\npartial");
            // Head and Upload: never answer.
        });
        FullListener full;
        QTcpServer silentTls; // accepts TCP, never answers the ClientHello
        QVERIFY(silentTls.listen(QHostAddress::LocalHost, 0));

        QUrl url;
        switch (phase) {
        case Phase::TcpConnect:
            url = QUrl(u"http://127.0.0.1:%1/"_s.arg(full.port()));
            break;
        case Phase::TlsHandshake:
            url = QUrl(u"https://127.0.0.1:%1/"_s.arg(silentTls.serverPort()));
            break;
        default:
            url = server.url(u"/x"_s);
        }

        PoolOptions small;
        small.maxPerHost = 1;
        AsyncConnectionPool pool(small);
        auto session = std::make_unique<SmallPoolSession>(&pool);
        session->setTimeout(Timeout::all(60s));
        auto owner = std::make_unique<QObject>();
        SilentDevice device;

        // The pool-slot phase: the one slot is held by a streamed response.
        std::optional<Reqivo::Response> holder;
        if (phase == Phase::PoolSlot) {
            holder = ReqivoTest::runCoroutine(
                session->get(server.url(u"/hold"_s), RequestOptions().streaming()));
        }

        RequestOptions opts;
        if (trigger == Trigger::OwnerDestroyed)
            opts.cancelWith(owner.get());
        QByteArray method = "GET";
        if (phase == Phase::Upload) {
            method = "POST";
            opts.body = Body::fromDevice(&device);
        }
        // Reply::abort() through a Reply; the other ways through co_await.
        QPointer<Reply> reply;
        std::unique_ptr<QSignalSpy> errors;
        const auto ended = std::make_shared<Ended>();
        if (trigger == Trigger::ReplyAbort) {
            reply = session->send(method, url, opts);
            errors = std::make_unique<QSignalSpy>(reply.data(), &Reply::errorOccurred);
        } else {
            awaitInto(session->request(method, url, opts), ended);
        }
        const auto running = [&] { return reply ? reply->isRunning() : !ended->done; };

        // Wait until the phase is under way.
        const auto underWay = [&] {
            switch (phase) {
            case Phase::PoolSlot:
                return pool.debugSummary().contains(u"waiting=1"_s);
            case Phase::TcpConnect:
                return true; // the connect started before send() returned
            case Phase::TlsHandshake:
                return silentTls.hasPendingConnections();
            case Phase::Head:
            case Phase::Upload:
                return server.bytesReceived() > 0;
            case Phase::Body:
                return !server.requests().isEmpty();
            }
            return false;
        };
        QTRY_VERIFY_WITH_TIMEOUT(underWay(), 10000);
        QVERIFY(running());

        switch (trigger) {
        case Trigger::ReplyAbort:
            reply->abort();
            break;
        case Trigger::OwnerDestroyed:
            owner.reset();
            break;
        case Trigger::SessionDestroyed:
            session.reset();
            break;
        }
        // Far below the minute every phase would otherwise wait.
        QTRY_VERIFY_WITH_TIMEOUT(!running(), 10000);
        Reqivo::Error e = ended->error;
        if (reply) {
            QCOMPARE(errors->size(), 1);
            e = errors->first().first().value<Reqivo::Error>();
        }
        QCOMPARE(e.kind(), Reqivo::Error::Kind::Request);
        if (trigger != Trigger::SessionDestroyed)
            QCOMPARE(e.detail(), u"aborted"_s);
        // Nothing of that request is left checked out (the holder, where there is one, is
        // still streaming until dropped).
        holder.reset();
        const Reqivo::Endpoint ep = Reqivo::Endpoint::fromUrl(url);
        QTRY_COMPARE_WITH_TIMEOUT(pool.activeCount(ep), 0, 10000);
        session.reset();
        QTRY_VERIFY_WITH_TIMEOUT(pool.debugSummary().endsWith(u"waiting=0"_s), 10000);
    }
};

QTEST_GUILESS_MAIN(TestSessionAbort)
#include "tst_session_abort.moc"
