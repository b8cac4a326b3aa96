// AsyncConnectionPool with real connections to in-process servers: reuse order, caps and
// waiting, timeouts, idle expiry, connections that die while idle, endpoint separation, and
// leases or waiters that outlive the pool. State is asserted through debugSummary().
#include "support/kernelack.h"
#include "support/qcorotest.h"
#include "testpeers.h"
#include "testproxies.h"

#include "transport/sharedconnectionstore.h"

#include <Reqivo/asyncconnectionpool.h>
#include <Reqivo/errors.h>

#include <QRegularExpression>
#include <QSemaphore>
#include <QTest>
#include <QThread>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>

#include <poll.h>
#include <sys/socket.h>

using namespace std::chrono_literals;
using namespace ReqivoTest;
using Reqivo::AsyncConnectionPool;
using Reqivo::ConnectionLease;
using Reqivo::PoolOptions;

namespace {

PoolOptions options(int perHost, int total = 100, std::chrono::milliseconds idle = 30s)
{
    PoolOptions o;
    o.maxPerHost = perHost;
    o.maxTotal = total;
    o.maxIdleTime = idle;
    return o;
}

QString summary(
    const LoopbackServer &server, int idle, int active, int total, int max = 100, int waiting = 0)
{
    return QStringLiteral("http://127.0.0.1:%1 idle=%2 active=%3 | total=%4/%5 waiting=%6")
        .arg(server.port())
        .arg(idle)
        .arg(active)
        .arg(total)
        .arg(max)
        .arg(waiting);
}

// Waits, without running the event loop, until the peer's kernel acknowledged everything sent on
// \a socket, a FIN included (SIOCOUTQ counts it): from then on a peek at the peer's socket sees
// it, though nobody there reads.
bool acknowledgedByPeer(const QTcpSocket *socket)
{
    return ReqivoTest::waitUntilPeerAcknowledged(int(socket->socketDescriptor()), 5s);
}

// One caller of acquire(), run on the side so a test can line several up and see who is
// served when. Its lease lands in `lease`, its failure in `error`, its turn in `order`.
struct Caller
{
    std::optional<ConnectionLease> lease;
    std::optional<Reqivo::Error> error;
    bool done = false;
};

QCoro::Task<void> call(AsyncConnectionPool &pool, Reqivo::Endpoint endpoint, Caller &caller,
    QList<int> *order = nullptr, int tag = 0, std::chrono::milliseconds acquireTimeout = 5s)
{
    try {
        caller.lease = co_await pool.acquire(endpoint, 5s, acquireTimeout);
    } catch (const Reqivo::ReqivoError &e) {
        caller.error = e.error();
    }
    caller.done = true;
    if (order)
        order->append(tag);
}

// A TLS echo server in a thread of its own, so that the test's thread can block (its event
// loop not running, like a blocking Session between two calls) while the server acts.
class ThreadedTlsEchoServer : public QObject
{
public:
    std::atomic<int> accepted {0};

    ThreadedTlsEchoServer() { moveToThread(&m_thread); }
    ~ThreadedTlsEchoServer() override
    {
        QMetaObject::invokeMethod(
            this, [this] { m_server.reset(); }, Qt::BlockingQueuedConnection);
        m_thread.quit();
        m_thread.wait();
    }

    bool start()
    {
        m_thread.start();
        bool listening = false;
        QMetaObject::invokeMethod(
            this,
            [this, &listening] {
                m_server = std::make_unique<QSslServer>();
                QSslConfiguration config = QSslConfiguration::defaultConfiguration();
                config.setLocalCertificate(certificate("server.pem"));
                config.setPrivateKey(privateKey("server.key"));
                config.setPeerVerifyMode(QSslSocket::VerifyNone);
                m_server->setSslConfiguration(config);
                QObject::connect(
                    m_server.get(), &QTcpServer::pendingConnectionAvailable, this, [this] {
                        while (QTcpSocket *socket = m_server->nextPendingConnection()) {
                            ++accepted;
                            m_sockets << QPointer<QTcpSocket>(socket);
                            const auto echo = [socket] { socket->write(socket->readAll()); };
                            QObject::connect(socket, &QIODevice::readyRead, socket, echo);
                            if (socket->bytesAvailable() > 0)
                                echo();
                        }
                    });
                listening = m_server->listen(QHostAddress::LocalHost, 0);
                m_port = m_server->serverPort();
            },
            Qt::BlockingQueuedConnection);
        return listening;
    }

    quint16 port() const { return m_port; }

    //! Shuts every connection down with close_notify (QSslSocket::disconnectFromHost()) and
    //! returns once the server has seen each one closed. The calling thread only blocks.
    bool closeAllGracefully()
    {
        QSemaphore closed;
        int count = 0;
        QMetaObject::invokeMethod(
            this,
            [this, &closed, &count] {
                for (const QPointer<QTcpSocket> &socket : std::as_const(m_sockets)) {
                    if (!socket || socket->state() != QAbstractSocket::ConnectedState)
                        continue;
                    ++count;
                    QObject::connect(socket, &QAbstractSocket::disconnected, socket,
                        [&closed] { closed.release(); });
                    socket->disconnectFromHost();
                }
            },
            Qt::BlockingQueuedConnection);
        return count > 0 && closed.tryAcquire(count, 10000);
    }

private:
    QThread m_thread;
    std::unique_ptr<QSslServer> m_server;
    QList<QPointer<QTcpSocket>> m_sockets;
    quint16 m_port = 0;
};

// Waits in the kernel, not in an event loop, until \a fd has something to read.
bool waitReadable(int fd)
{
    pollfd readable {fd, POLLIN, 0};
    return ::poll(&readable, 1, 10000) == 1;
}

} // namespace

class TestAsyncConnectionPool : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void reusesTheMostRecentlyReturnedConnection()
    {
        LoopbackServer server(LoopbackServer::echo());
        QVERIFY(server.listen());
        AsyncConnectionPool pool;
        RUN_CORO([&]() -> QCoro::Task<> {
            const auto endpoint = server.endpoint();
            ConnectionLease a = co_await pool.acquire(endpoint, 5s, 5s);
            ConnectionLease b = co_await pool.acquire(endpoint, 5s, 5s);
            ConnectionLease c = co_await pool.acquire(endpoint, 5s, 5s);
            CO_VERIFY(a && b && c);
            CO_VERIFY(!a.isReused() && !b.isReused() && !c.isReused());
            CO_COMPARE(pool.debugSummary(), summary(server, 0, 3, 3));
            const quint64 bId = b->id();
            const quint64 cId = c->id();
            a.recycle();
            b.recycle();
            c.recycle();
            CO_VERIFY(!c);
            CO_COMPARE(pool.debugSummary(), summary(server, 3, 0, 3));

            ConnectionLease first = co_await pool.acquire(endpoint, 5s, 5s);
            ConnectionLease second = co_await pool.acquire(endpoint, 5s, 5s);
            CO_COMPARE(first->id(), cId);
            CO_COMPARE(second->id(), bId);
            CO_VERIFY(first.isReused());
            CO_COMPARE(first->useCount(), 2);
            CO_COMPARE(pool.idleCount(endpoint), 1);
            CO_COMPARE(pool.activeCount(endpoint), 2);
            CO_COMPARE(pool.totalCount(), 3);
            CO_COMPARE(server.acceptedCount(), 3);

            // A reused connection works like a new one.
            co_await first->write("reused", 5s);
            CO_COMPARE(co_await first->read(5s), QByteArray("reused"));
        }());
    }

    void perHostCapServesWaitersInArrivalOrder()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        AsyncConnectionPool pool(options(2));
        RUN_CORO([&]() -> QCoro::Task<> {
            const auto endpoint = server.endpoint();
            ConnectionLease l1 = co_await pool.acquire(endpoint, 5s, 5s);
            ConnectionLease l2 = co_await pool.acquire(endpoint, 5s, 5s);
            QList<int> order;
            Caller w1, w2, w3;
            call(pool, endpoint, w1, &order, 1);
            call(pool, endpoint, w2, &order, 2);
            call(pool, endpoint, w3, &order, 3);
            CO_COMPARE(pool.debugSummary(), summary(server, 0, 2, 2, 100, 3));

            const quint64 recycledId = l1->id();
            l1.recycle();
            CO_VERIFY(co_await eventually([&] { return w1.done; }));
            CO_VERIFY(w1.lease && w1.lease->isReused());
            CO_COMPARE(w1.lease->connection()->id(), recycledId);
            CO_COMPARE(pool.debugSummary(), summary(server, 0, 2, 2, 100, 2));

            l2.discard(); // a slot, not a connection, frees: the next waiter connects anew
            CO_VERIFY(co_await eventually([&] { return w2.done; }));
            CO_VERIFY(w2.lease && !w2.lease->isReused());

            w1.lease->recycle();
            CO_VERIFY(co_await eventually([&] { return w3.done; }));
            CO_COMPARE(order, (QList<int> {1, 2, 3}));
            CO_COMPARE(pool.debugSummary(), summary(server, 0, 2, 2, 100, 0));
            CO_COMPARE(server.acceptedCount(), 3);
        }());
    }

    void totalCapClosesAnIdleConnectionOfAnotherEndpoint()
    {
        LoopbackServer a;
        LoopbackServer b;
        QVERIFY(a.listen());
        QVERIFY(b.listen());
        AsyncConnectionPool pool(options(10, 2));
        RUN_CORO([&]() -> QCoro::Task<> {
            ConnectionLease a1 = co_await pool.acquire(a.endpoint(), 5s, 5s);
            ConnectionLease a2 = co_await pool.acquire(a.endpoint(), 5s, 5s);
            Caller toB;
            call(pool, b.endpoint(), toB);
            CO_COMPARE(pool.waitingCount(), 1);
            a1.recycle();
            CO_VERIFY(co_await eventually([&] { return toB.done; }));
            CO_VERIFY(toB.lease);
            CO_COMPARE(pool.idleCount(a.endpoint()), 0);
            CO_COMPARE(pool.activeCount(a.endpoint()), 1);
            CO_COMPARE(pool.activeCount(b.endpoint()), 1);
            CO_COMPARE(pool.totalCount(), 2);
            // The idle connection to a was closed to make room.
            CO_VERIFY(co_await eventually([&] { return a.sockets().size() == 1; }));
        }());
    }

    void poolTimeout()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        AsyncConnectionPool pool(options(1));
        RUN_CORO([&]() -> QCoro::Task<> {
            const auto endpoint = server.endpoint();
            ConnectionLease held = co_await pool.acquire(endpoint, 5s, 5s);
            QElapsedTimer clock;
            clock.start();
            const auto error
                = co_await thrown<Reqivo::PoolTimeout>(pool.acquire(endpoint, 5s, 100ms));
            CO_VERIFY(error);
            CO_VERIFY(clock.elapsed() >= 80);
            CO_COMPARE(error->message(),
                QStringLiteral(
                    "no connection to http://127.0.0.1:%1 became available within 100 ms")
                    .arg(server.port()));
            CO_COMPARE(error->error().detail(), summary(server, 0, 1, 1, 100, 1));
            CO_COMPARE(pool.waitingCount(), 0);
            // The timed-out caller is gone for good: a returned connection goes idle.
            held.recycle();
            CO_COMPARE(pool.debugSummary(), summary(server, 1, 0, 1));
        }());
    }

    void idleConnectionsExpire()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        AsyncConnectionPool pool(options(10, 100, 150ms));
        RUN_CORO([&]() -> QCoro::Task<> {
            ConnectionLease lease = co_await pool.acquire(server.endpoint(), 5s, 5s);
            QElapsedTimer idle;
            idle.start();
            lease.recycle();
            CO_COMPARE(pool.idleCount(server.endpoint()), 1);
            co_await eventsFlushed(); // not dropped as soon as the loop runs ...
            CO_COMPARE(pool.idleCount(server.endpoint()), 1);
            CO_VERIFY(co_await eventually([&] { return pool.totalCount() == 0; }, 2s));
            // ... but once idle for 150 ms (a coarse timer may fire up to 5 % early; a busy
            // machine only makes it later).
            CO_VERIFY2(idle.elapsed() >= 140, qPrintable(QString::number(idle.elapsed())));
            CO_COMPARE(
                pool.debugSummary(), QStringLiteral("no connections | total=0/100 waiting=0"));
            CO_VERIFY(co_await eventually([&] { return server.sockets().isEmpty(); }));
        }());
    }

    void keepAliveTimeoutShortensIdleLife()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        AsyncConnectionPool pool(options(10, 100, 30s));
        RUN_CORO([&]() -> QCoro::Task<> {
            ConnectionLease shortLived = co_await pool.acquire(server.endpoint(), 5s, 5s);
            ConnectionLease longLived = co_await pool.acquire(server.endpoint(), 5s, 5s);
            const quint64 longId = longLived->id();
            longLived.recycle();
            shortLived.recycle(300ms); // "Keep-Alive: timeout" of 0.3 s: gone after 0.15 s
            CO_COMPARE(pool.idleCount(server.endpoint()), 2);
            CO_VERIFY(
                co_await eventually([&] { return pool.idleCount(server.endpoint()) == 1; }, 2s));
            ConnectionLease again = co_await pool.acquire(server.endpoint(), 5s, 5s);
            CO_COMPARE(again->id(), longId);
        }());
    }

    void idleConnectionClosedByTheServerIsDropped()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        AsyncConnectionPool pool;
        RUN_CORO([&]() -> QCoro::Task<> {
            ConnectionLease lease = co_await pool.acquire(server.endpoint(), 5s, 5s);
            lease.recycle();
            CO_VERIFY(co_await eventually([&] { return server.last(); }));
            server.last()->disconnectFromHost();
            CO_VERIFY(co_await eventually([&] { return pool.totalCount() == 0; }));
            ConnectionLease next = co_await pool.acquire(server.endpoint(), 5s, 5s);
            CO_VERIFY(!next.isReused());
            CO_COMPARE(server.acceptedCount(), 2);
        }());
    }

    void idleConnectionThatDiedJustNowIsNotHandedOut_data()
    {
        QTest::addColumn<bool>("sendBytes");
        QTest::newRow("server closed") << false;
        QTest::newRow("server sent unsolicited bytes") << true;
    }

    void idleConnectionThatDiedJustNowIsNotHandedOut()
    {
        QFETCH(bool, sendBytes);
        LoopbackServer server;
        QVERIFY(server.listen());
        AsyncConnectionPool pool;
        RUN_CORO([&]() -> QCoro::Task<> {
            ConnectionLease lease = co_await pool.acquire(server.endpoint(), 5s, 5s);
            lease.recycle();
            CO_VERIFY(co_await eventually([&] { return server.last(); }));
            co_await eventsFlushed(); // nothing from the connect is left to deliver
            // No event-loop turn between the server's action and the acquire: only the
            // pool's reuse check can notice. It runs once the client's kernel has the bytes or
            // the FIN.
            QTcpSocket *peer = server.last();
            if (sendBytes) {
                peer->write("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n");
                peer->flush();
            } else {
                ::shutdown(int(peer->socketDescriptor()), SHUT_WR);
            }
            CO_VERIFY(acknowledgedByPeer(peer));
            if (!sendBytes)
                peer->disconnectFromHost();
            ConnectionLease next = co_await pool.acquire(server.endpoint(), 5s, 5s);
            CO_VERIFY(!next.isReused());
            CO_COMPARE(pool.debugSummary(), summary(server, 0, 1, 1));
        }());
    }

    // Review A7: a TLS server that shuts an idle connection down (close_notify, then FIN)
    // while the client runs no event loop. Only the kernel knows, and what it holds is a TLS
    // record: readable-while-idle must mean dropped, for TLS as for plain TCP.
    void tlsCloseNotifyWhileNoEventLoopRanIsNeverReused_data()
    {
        QTest::addColumn<bool>("shared");
        QTest::newRow("idle in the pool") << false;
        QTest::newRow("parked in a shared store") << true;
    }

    void tlsCloseNotifyWhileNoEventLoopRanIsNeverReused()
    {
        QFETCH(bool, shared);
        ThreadedTlsEchoServer server;
        QVERIFY(server.start());
        AsyncConnectionPool pool;
        if (shared)
            pool.setSharedStore(std::make_shared<Reqivo::Transport::SharedConnectionStore>());
        RUN_CORO([&]() -> QCoro::Task<> {
            Reqivo::Endpoint endpoint = loopbackEndpoint(server.port(), true);
            endpoint.tlsOptions = testCaOptions();
            ConnectionLease lease = co_await pool.acquire(endpoint, 5s, 5s);
            co_await lease->write("ping", 5s);
            QByteArray echoed;
            while (echoed.size() < 4)
                echoed += co_await lease->read(5s);
            CO_COMPARE(echoed, QByteArray("ping"));
            const int fd = int(lease->socket()->socketDescriptor());
            const quint64 staleId = lease->id();
            lease.recycle();
            // No co_await from here to the next acquire(): this thread's event loop does not
            // run while the server closes and the close_notify reaches the kernel.
            CO_VERIFY(server.closeAllGracefully());
            CO_VERIFY(waitReadable(fd));
            ConnectionLease next = co_await pool.acquire(endpoint, 5s, 5s);
            CO_VERIFY2(!next.isReused(), "a connection the server had closed was handed out");
            CO_VERIFY(next->id() != staleId);
            co_await next->write("pong", 5s);
            echoed.clear();
            while (echoed.size() < 4)
                echoed += co_await next->read(5s);
            CO_COMPARE(echoed, QByteArray("pong"));
            CO_COMPARE(server.accepted.load(), 2);
        }());
    }

    void unsolicitedBytesOnAnIdleConnectionDropIt()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        AsyncConnectionPool pool;
        RUN_CORO([&]() -> QCoro::Task<> {
            ConnectionLease lease = co_await pool.acquire(server.endpoint(), 5s, 5s);
            lease.recycle();
            CO_VERIFY(co_await eventually([&] { return server.last(); }));
            server.last()->write("garbage");
            CO_VERIFY(co_await eventually([&] { return pool.totalCount() == 0; }));
            CO_VERIFY(co_await eventually([&] { return server.sockets().isEmpty(); }));
        }());
    }

    void unusableConnectionsAreNotRecycled()
    {
        LoopbackServer server(LoopbackServer::sendThenClose("unread", false));
        QVERIFY(server.listen());
        AsyncConnectionPool pool;
        RUN_CORO([&]() -> QCoro::Task<> {
            ConnectionLease lease = co_await pool.acquire(server.endpoint(), 5s, 5s);
            CO_VERIFY(co_await eventually([&] { return lease->socket()->bytesAvailable() > 0; }));
            lease.recycle(); // bytes nobody read: the next response could not be trusted
            CO_COMPARE(
                pool.debugSummary(), QStringLiteral("no connections | total=0/100 waiting=0"));
        }());
    }

    void endpointsNeverShareConnections()
    {
        LoopbackServer plain(LoopbackServer::echo());
        LoopbackServer tls(LoopbackServer::echo());
        QVERIFY(plain.listen());
        QVERIFY(tls.listenTls());
        HttpConnectProxy http;
        Socks5Proxy socks;
        QVERIFY(http.listen());
        QVERIFY(socks.listen());

        QList<Reqivo::Endpoint> endpoints;
        endpoints << plain.endpoint();
        Reqivo::Endpoint e = plain.endpoint();
        e.proxy = QNetworkProxy(QNetworkProxy::HttpProxy, QStringLiteral("127.0.0.1"), http.port());
        endpoints << e;
        e.proxy
            = QNetworkProxy(QNetworkProxy::Socks5Proxy, QStringLiteral("127.0.0.1"), socks.port());
        endpoints << e;
        e.proxy.setUser(QStringLiteral("someone"));
        e.proxy.setPassword(QStringLiteral("pw"));
        endpoints << e;
        e = tls.endpoint(true);
        e.tlsOptions = testCaOptions();
        endpoints << e;
        e.tlsOptions.verifyPeer = false;
        endpoints << e;
        e.tlsOptions = testCaOptions();
        e.tlsOptions.clientCertificate = certificate("client.pem");
        e.tlsOptions.privateKey = privateKey("client.key");
        endpoints << e;

        AsyncConnectionPool pool;
        RUN_CORO([&]() -> QCoro::Task<> {
            QSet<quint64> ids;
            for (const auto &endpoint : std::as_const(endpoints)) {
                ConnectionLease lease = co_await pool.acquire(endpoint, 5s, 5s);
                CO_VERIFY2(!lease.isReused(), qPrintable(endpoint.key()));
                co_await lease->write("x", 5s);
                CO_COMPARE(co_await lease->read(5s), QByteArray("x"));
                ids.insert(lease->id());
                lease.recycle();
            }
            CO_COMPARE(pool.totalCount(), int(endpoints.size()));
            // Each endpoint gets its own connection back.
            for (const auto &endpoint : std::as_const(endpoints)) {
                CO_COMPARE(pool.idleCount(endpoint), 1);
                ConnectionLease lease = co_await pool.acquire(endpoint, 5s, 5s);
                CO_VERIFY2(lease.isReused(), qPrintable(endpoint.key()));
                CO_VERIFY(lease->endpoint() == endpoint);
                lease.recycle();
            }
            CO_COMPARE(ids.size(), endpoints.size());
            const QString line = pool.debugSummary();
            CO_VERIFY2(line.contains(QStringLiteral("via socks5 proxy 127.0.0.1:%1 idle=1 active=0")
                                         .arg(socks.port())),
                qPrintable(line));
            CO_VERIFY2(line.contains(
                           QStringLiteral("via http proxy 127.0.0.1:%1 idle=1").arg(http.port())),
                qPrintable(line));
            CO_VERIFY2(line.endsWith(QStringLiteral(" | total=7/100 waiting=0")), qPrintable(line));
            CO_VERIFY2(
                !line.contains(QLatin1String("pw")) && !line.contains(QLatin1String("someone")),
                qPrintable(line));
            CO_VERIFY(!line.contains(QLatin1Char('\n')));
        }());
    }

    void droppedLeaseFreesItsSlot()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        AsyncConnectionPool pool(options(1));
        RUN_CORO([&]() -> QCoro::Task<> {
            Caller waiter;
            {
                ConnectionLease lease = co_await pool.acquire(server.endpoint(), 5s, 5s);
                call(pool, server.endpoint(), waiter);
                CO_COMPARE(pool.waitingCount(), 1);
                ConnectionLease moved = std::move(lease);
                CO_VERIFY(!lease);
                CO_VERIFY(moved);
            } // neither recycled nor discarded
            CO_VERIFY(co_await eventually([&] { return waiter.done; }));
            CO_VERIFY(waiter.lease && !waiter.lease->isReused());
            CO_COMPARE(pool.debugSummary(), summary(server, 0, 1, 1));
        }());
    }

    void failedConnectFreesItsSlot()
    {
        AsyncConnectionPool pool(options(1));
        RUN_CORO([&]() -> QCoro::Task<> {
            const auto endpoint = loopbackEndpoint(closedPort());
            Caller second;
            auto first = pool.acquire(endpoint, 5s, 5s);
            call(pool, endpoint, second);
            const auto error = co_await thrown<Reqivo::NetworkError>(std::move(first));
            CO_VERIFY(error);
            CO_VERIFY(co_await eventually([&] { return second.done; }));
            CO_VERIFY(second.error);
            CO_COMPARE(second.error->kind(), Reqivo::Error::Kind::Network);
            CO_COMPARE(pool.totalCount(), 0);
            CO_COMPARE(pool.waitingCount(), 0);
        }());
    }

    void connectFreshNeverReuses()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        AsyncConnectionPool pool(options(1));
        RUN_CORO([&]() -> QCoro::Task<> {
            ConnectionLease stale = co_await pool.acquire(server.endpoint(), 5s, 5s);
            const quint64 staleId = stale->id();
            stale.recycle();
            ConnectionLease fresh = co_await pool.connectFresh(server.endpoint(), 5s, 5s);
            CO_VERIFY(!fresh.isReused());
            CO_VERIFY(fresh->id() != staleId);
            // At maxPerHost=1 the idle connection was closed to make room.
            CO_COMPARE(pool.debugSummary(), summary(server, 0, 1, 1));
        }());
    }

    void clearClosesIdleConnections()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        AsyncConnectionPool pool;
        RUN_CORO([&]() -> QCoro::Task<> {
            ConnectionLease a = co_await pool.acquire(server.endpoint(), 5s, 5s);
            ConnectionLease b = co_await pool.acquire(server.endpoint(), 5s, 5s);
            a.recycle();
            pool.clear();
            CO_COMPARE(pool.debugSummary(), summary(server, 0, 1, 1));
            CO_VERIFY(b->isOpen());
        }());
    }

    void setOptionsTrimsAndServes()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        AsyncConnectionPool pool(options(3));
        RUN_CORO([&]() -> QCoro::Task<> {
            ConnectionLease a = co_await pool.acquire(server.endpoint(), 5s, 5s);
            ConnectionLease b = co_await pool.acquire(server.endpoint(), 5s, 5s);
            ConnectionLease c = co_await pool.acquire(server.endpoint(), 5s, 5s);
            a.recycle();
            b.recycle();
            pool.setOptions(options(1));
            CO_COMPARE(pool.options().maxPerHost, 1);
            CO_COMPARE(pool.debugSummary(), summary(server, 0, 1, 1));
            Caller waiter;
            call(pool, server.endpoint(), waiter);
            CO_COMPARE(pool.waitingCount(), 1);
            pool.setOptions(options(2));
            CO_VERIFY(co_await eventually([&] { return waiter.done; }));
            CO_VERIFY(waiter.lease);
            pool.setOptions(options(0, 0)); // nonsense caps are clamped to one
            CO_COMPARE(pool.options().maxPerHost, 1);
            CO_COMPARE(pool.options().maxTotal, 1);
        }());
    }

    void discardFromInsideTheResumedReader()
    {
        // A lease discarded by a coroutine that its connection's readyRead resumed: the
        // connection dies while its socket is still emitting.
        LoopbackServer server(LoopbackServer::echo());
        QVERIFY(server.listen());
        AsyncConnectionPool pool;
        RUN_CORO([&]() -> QCoro::Task<> {
            ConnectionLease lease = co_await pool.acquire(server.endpoint(), 5s, 5s);
            co_await lease->write("ping", 5s);
            const QByteArray data = co_await lease->read(5s);
            lease.discard();
            CO_COMPARE(data, QByteArray("ping"));
            CO_COMPARE(pool.totalCount(), 0);
            co_await settle();
        }());
    }

    void poolDestroyedWithLeasesWaitersAndConnectsInFlight()
    {
        LoopbackServer server(LoopbackServer::echo());
        LoopbackServer silentTls; // plain TCP, so a TLS connect to it never finishes
        QVERIFY(server.listen());
        QVERIFY(silentTls.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            auto pool = std::make_unique<AsyncConnectionPool>(options(1));
            ConnectionLease held = co_await pool->acquire(server.endpoint(), 5s, 5s);
            ConnectionLease idle = co_await pool->acquire(silentTls.endpoint(), 5s, 5s);
            idle.recycle();
            Caller waiter;
            call(*pool, server.endpoint(), waiter);
            Reqivo::Endpoint tlsEndpoint = silentTls.endpoint(true);
            tlsEndpoint.tlsOptions = testCaOptions();
            Caller connecting;
            call(*pool, tlsEndpoint, connecting);
            auto pendingRead = held->read(5s);
            CO_VERIFY(!waiter.done && !connecting.done && !pendingRead.isReady());

            pool.reset();

            CO_VERIFY(co_await eventually([&] { return waiter.done && connecting.done; }));
            CO_VERIFY(waiter.error && connecting.error);
            CO_VERIFY2(waiter.error->message().contains(QLatin1String("pool was destroyed")),
                qPrintable(waiter.error->message()));
            CO_VERIFY(connecting.error->isA(Reqivo::Error::Kind::Network));
            // The held connection was aborted; its lease still owns a valid object.
            CO_VERIFY(co_await thrown<Reqivo::NetworkError>(std::move(pendingRead)));
            CO_VERIFY(held);
            CO_VERIFY(!held->isOpen());
            held.recycle(); // inert: just frees it
            CO_VERIFY(!held);
            co_await settle();
        }());
    }

    // Review A9: a lease (the connection of a streamed response) ended in another thread. The
    // pool's state and the connection's socket notifiers belong to the pool's thread: the
    // hand-back must happen there, never in the other thread (Qt would warn about notifiers
    // touched from another thread; any warning fails these tests).
    // The pool is the one place that counts uses (review A13a): once per lease, however the
    // lease was made.
    void useCountCountsLeases()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        AsyncConnectionPool pool(options(1));
        auto store = std::make_shared<Reqivo::Transport::SharedConnectionStore>();
        RUN_CORO([&]() -> QCoro::Task<> {
            const auto endpoint = server.endpoint();
            ConnectionLease lease = co_await pool.acquire(endpoint, 5s, 5s); // new
            CO_COMPARE(lease->useCount(), 1);
            lease.recycle();
            lease = co_await pool.acquire(endpoint, 5s, 5s); // idle, reused
            CO_COMPARE(lease->useCount(), 2);
            Caller waiter;
            call(pool, endpoint, waiter);
            lease.recycle(); // served to the waiter
            CO_VERIFY(co_await eventually([&] { return waiter.done; }));
            CO_VERIFY(waiter.lease && waiter.lease->isReused());
            CO_COMPARE(waiter.lease->connection()->useCount(), 3);
            pool.setSharedStore(store);
            waiter.lease->recycle(); // parked
            CO_COMPARE(store->parkedCount(), 1);
            lease = co_await pool.acquire(endpoint, 5s, 5s); // taken from the store
            CO_VERIFY(lease.isReused());
            CO_COMPARE(lease->useCount(), 4);
            lease.recycle();
            lease = co_await pool.connectFresh(endpoint, 5s, 5s);
            CO_COMPARE(lease->useCount(), 1);
        }());
    }

    void leaseEndedInAnotherThread_data()
    {
        QTest::addColumn<QString>("how");
        QTest::newRow("recycle()") << QStringLiteral("recycle");
        QTest::newRow("discard()") << QStringLiteral("discard");
        QTest::newRow("destroyed") << QStringLiteral("destroy");
    }

    void leaseEndedInAnotherThread()
    {
        QFETCH(QString, how);
        QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
        LoopbackServer server(LoopbackServer::echo());
        QVERIFY(server.listen());
        AsyncConnectionPool pool;
        const Reqivo::Endpoint endpoint = server.endpoint();
        std::optional<ConnectionLease> lease;
        RUN_CORO([&]() -> QCoro::Task<> {
            lease = co_await pool.acquire(endpoint, 5s, 5s);
            co_await (*lease)->write("x", 5s);
            CO_COMPARE(co_await (*lease)->read(5s), QByteArray("x"));
        }());
        QVERIFY(lease && *lease);
        const quint64 id = (*lease)->id();
        QPointer<Reqivo::AsyncConnection> connection = lease->connection();

        std::thread other([how, moved = std::move(*lease)]() mutable {
            ConnectionLease local = std::move(moved);
            if (how == QLatin1String("recycle"))
                local.recycle();
            else if (how == QLatin1String("discard"))
                local.discard();
        }); // "destroy": the lease's destructor runs in the other thread
        other.join();
        lease.reset();

        // Nothing changed yet: the hand-back waits for this thread's event loop.
        QCOMPARE(pool.debugSummary(), summary(server, 0, 1, 1));
        QVERIFY(connection);
        if (how == QLatin1String("recycle")) {
            QTRY_COMPARE_WITH_TIMEOUT(pool.debugSummary(), summary(server, 1, 0, 1), 5000);
            RUN_CORO([&]() -> QCoro::Task<> {
                ConnectionLease again = co_await pool.acquire(endpoint, 5s, 5s);
                CO_VERIFY(again.isReused());
                CO_COMPARE(again->id(), id);
            }());
        } else {
            QTRY_COMPARE_WITH_TIMEOUT(pool.debugSummary(),
                QStringLiteral("no connections | total=0/100 waiting=0"), 5000);
            QVERIFY(!connection);
            QTRY_VERIFY_WITH_TIMEOUT(server.sockets().isEmpty(), 5000);
        }
    }

    void leaseEndedInAnotherThreadAfterThePoolIsGone()
    {
        QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
        LoopbackServer server(LoopbackServer::echo());
        QVERIFY(server.listen());
        auto pool = std::make_unique<AsyncConnectionPool>();
        std::optional<ConnectionLease> lease;
        RUN_CORO([&]() -> QCoro::Task<> {
            lease = co_await pool->acquire(server.endpoint(), 5s, 5s);
        }());
        QPointer<Reqivo::AsyncConnection> connection = lease->connection();
        pool.reset(); // the connection is closed; the lease owns it now
        QVERIFY(connection);
        std::thread other([moved = std::move(*lease)]() mutable { moved.recycle(); });
        other.join();
        lease.reset();
        QVERIFY(!connection); // freed in the other thread, safely: the pool left it inert
        QTRY_VERIFY_WITH_TIMEOUT(server.sockets().isEmpty(), 5000);
    }

    void poolDestroyedBeforeAHandBackFromAnotherThreadRan()
    {
        QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
        LoopbackServer server(LoopbackServer::echo());
        QVERIFY(server.listen());
        auto pool = std::make_unique<AsyncConnectionPool>();
        std::optional<ConnectionLease> lease;
        RUN_CORO([&]() -> QCoro::Task<> {
            lease = co_await pool->acquire(server.endpoint(), 5s, 5s);
        }());
        QPointer<Reqivo::AsyncConnection> connection = lease->connection();
        std::thread other([moved = std::move(*lease)]() mutable { moved.recycle(); });
        other.join();
        lease.reset();
        QVERIFY(connection); // handed back, but not yet run
        pool.reset(); // runs the queued hand-back, then closes the now idle connection
        QVERIFY(!connection);
        QCoreApplication::sendPostedEvents();
        QTRY_VERIFY_WITH_TIMEOUT(server.sockets().isEmpty(), 5000);
    }

    void leaseOutlivesPoolAndConnectionStaysUsable()
    {
        LoopbackServer server(LoopbackServer::echo());
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            ConnectionLease lease;
            {
                AsyncConnectionPool pool;
                lease = co_await pool.acquire(server.endpoint(), 5s, 5s);
            }
            CO_VERIFY(lease);
            CO_VERIFY(!lease->isOpen()); // the pool aborted it on the way out
            lease.discard();
            co_await settle();
        }());
    }
};

QTEST_GUILESS_MAIN(TestAsyncConnectionPool)
#include "tst_asyncconnectionpool.moc"
