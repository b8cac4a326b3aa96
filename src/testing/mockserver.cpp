// MockServer: the listener, TLS, the recording and the choice of answers. Connections are
// handled by MockHttp1Connection (mockhttp1.cpp), the HTTP/2 handler and the WebSocket player
// (mockserver_p.h); they live under d->home, which stop() empties.
#include <Reqivo/Testing/mockserver.h>

#include "mockcertificates_p.h"
#include "mockhttp1_p.h"
#include "mockserver_p.h"

#include <QEventLoop>
#include <QMutex>
#include <QMutexLocker>
#include <QPointer>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <qcorosignal.h>

#include <atomic>
#include <exception>

namespace Reqivo::Testing {

namespace {

// A QTcpServer that hands over descriptors, so that TLS sockets can be made from them.
class Listener : public QTcpServer
{
public:
    using QTcpServer::QTcpServer;
    std::function<void(qintptr)> onIncoming;

protected:
    void incomingConnection(qintptr descriptor) override { onIncoming(descriptor); }
};

} // namespace

struct MockServer::Private final : detail::MockServerCore
{
    explicit Private(MockServer *server)
        : q(server)
        , listener(new Listener(server))
        , home(new QObject(server))
    {
        listener->onIncoming = [this](qintptr descriptor) { incoming(descriptor); };
    }

    MockResponse respond(RecordedRequest request) override;
    void recordMessage(RecordedMessage message) override;
    int allocateConnectionIndex() override { return connections.fetch_add(1); }
    MockServer::Protocols protocols() const override { return protocolChoice; }

    void incoming(qintptr descriptor);
    void encrypted(QSslSocket *socket, int index);
    void closeConnections();

    MockServer *const q;
    Listener *const listener; // a child of q: moves threads with it
    QObject *const home; // the parent of every connection handler and pending TLS socket
    Protocols protocolChoice = Protocols::Http1;
    bool tls = false;
    detail::MockCertificates certificates;
    int inRespond = 0; // respond() calls in progress (user code may call stop() from them)

    std::atomic_int connections{0};
    std::atomic<quint16> listeningPort{0};

    mutable QMutex mutex; // guards everything below (tests read from other threads)
    QList<MockResponse> queue;
    Dispatcher dispatcher;
    MockResponse defaultResponse{404};
    QList<RecordedRequest> requests;
    QList<RecordedRequest> untaken;
    QList<RecordedMessage> messages;
    int nextSequence = 0;
};

MockResponse MockServer::Private::respond(RecordedRequest request)
{
    Dispatcher chosen;
    {
        QMutexLocker lock(&mutex);
        request.sequenceNumber = nextSequence++;
        requests.append(request);
        untaken.append(request);
        chosen = dispatcher;
    }
    ++inRespond;
    Q_EMIT q->requestReceived(request);
    MockResponse response;
    bool answered = false;
    if (chosen) {
        try {
            response = chosen(request);
        } catch (const std::exception &e) {
            qWarning("MockServer: the dispatcher threw: %s", e.what());
            response = MockResponse::text(QStringLiteral("dispatcher threw"), 500);
        } catch (...) {
            qWarning("MockServer: the dispatcher threw");
            response = MockResponse::text(QStringLiteral("dispatcher threw"), 500);
        }
        answered = true;
    }
    if (!answered) {
        QMutexLocker lock(&mutex);
        response = queue.isEmpty() ? defaultResponse : queue.takeFirst();
    }
    --inRespond;
    return response;
}

void MockServer::Private::recordMessage(RecordedMessage message)
{
    {
        QMutexLocker lock(&mutex);
        messages.append(message);
    }
    Q_EMIT q->webSocketMessageReceived(message);
}

void MockServer::Private::incoming(qintptr descriptor)
{
    const int index = allocateConnectionIndex();
    if (!tls) {
        auto *socket = new QTcpSocket(home);
        if (!socket->setSocketDescriptor(descriptor)) {
            delete socket;
            return;
        }
        new detail::MockHttp1Connection(*this, socket, {index, false}, {}, home);
        return;
    }
    auto *socket = new QSslSocket(home);
    if (!socket->setSocketDescriptor(descriptor)) {
        delete socket;
        return;
    }
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    config.setLocalCertificateChain({certificates.leaf, certificates.ca});
    config.setPrivateKey(certificates.leafKey);
    config.setPeerVerifyMode(QSslSocket::VerifyNone);
    switch (protocolChoice) {
    case Protocols::Http1:
        config.setAllowedNextProtocols({QByteArrayLiteral("http/1.1")});
        break;
    case Protocols::Http1AndHttp2:
        config.setAllowedNextProtocols({QByteArrayLiteral("h2"), QByteArrayLiteral("http/1.1")});
        break;
    case Protocols::Http2Only:
        config.setAllowedNextProtocols({QByteArrayLiteral("h2")});
        break;
    }
    socket->setSslConfiguration(config);
    QObject::connect(socket, &QSslSocket::encrypted, home,
                     [this, socket, index] { encrypted(socket, index); });
    // A failed handshake: the socket goes (it is not a connection handler's yet).
    QObject::connect(socket, &QSslSocket::disconnected, home, [socket] { socket->deleteLater(); });
    QObject::connect(socket, &QSslSocket::errorOccurred, home, [socket] {
        if (!socket->isEncrypted())
            socket->deleteLater();
    });
    socket->startServerEncryption();
}

void MockServer::Private::encrypted(QSslSocket *socket, int index)
{
    QObject::disconnect(socket, nullptr, home, nullptr);
    const QByteArray alpn = socket->sslConfiguration().nextNegotiatedProtocol();
    const detail::MockConnectionInfo info{index, true};
    if (alpn == "h2") {
        detail::createHttp2Handler(*this, socket, info, socket->readAll(), home);
        return;
    }
    if (protocolChoice == Protocols::Http2Only) {
        socket->abort(); // no h2 by ALPN: refused
        socket->deleteLater();
        return;
    }
    new detail::MockHttp1Connection(*this, socket, info, socket->readAll(), home);
}

void MockServer::Private::closeConnections()
{
    const QObjectList handlers = home->children();
    for (QObject *handler : handlers) {
        QPointer<QObject> alive(handler);
        if (!alive)
            continue;
        if (inRespond > 0)
            handler->deleteLater(); // a handler may be inside respond() on this stack
        else
            delete handler;
    }
}

// --- MockServer -------------------------------------------------------------------------------

MockServer::MockServer(QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>(this))
{
}

MockServer::~MockServer()
{
    d->inRespond = 0; // nothing is on the stack of a server being destroyed
    stop();
}

void MockServer::useTls()
{
    if (!d->tls) {
        d->certificates = detail::makeMockCertificates();
        if (d->certificates.leaf.isNull() || d->certificates.leafKey.isNull())
            qWarning("MockServer: the TLS certificates could not be made");
        d->tls = true;
    }
}

QSslCertificate MockServer::caCertificate() const
{
    return d->certificates.ca;
}

void MockServer::setProtocols(Protocols protocols)
{
    d->protocolChoice = protocols;
}

bool MockServer::start(const QHostAddress &address, quint16 port)
{
    if (d->listener->isListening())
        return false;
    if (d->tls && d->certificates.leafKey.isNull())
        return false;
    if (!d->listener->listen(address, port)) {
        qWarning("MockServer: cannot listen: %s", qPrintable(d->listener->errorString()));
        return false;
    }
    d->listeningPort = d->listener->serverPort();
    return true;
}

void MockServer::stop()
{
    d->listener->close();
    d->closeConnections();
}

bool MockServer::isListening() const
{
    return d->listener->isListening();
}

quint16 MockServer::port() const
{
    return d->listeningPort;
}

QUrl MockServer::url(const QString &path) const
{
    QUrl url;
    url.setScheme(d->tls ? QStringLiteral("https") : QStringLiteral("http"));
    url.setHost(QStringLiteral("127.0.0.1"));
    if (d->listener->serverAddress() == QHostAddress::LocalHostIPv6)
        url.setHost(QStringLiteral("::1"));
    url.setPort(port());
    const qsizetype query = path.indexOf(u'?');
    url.setPath(query < 0 ? path : path.left(query));
    if (query >= 0)
        url.setQuery(path.mid(query + 1));
    return url;
}

void MockServer::enqueue(const MockResponse &response)
{
    QMutexLocker lock(&d->mutex);
    d->queue.append(response);
}

void MockServer::setDispatcher(Dispatcher dispatcher)
{
    QMutexLocker lock(&d->mutex);
    d->dispatcher = std::move(dispatcher);
}

void MockServer::setDefaultResponse(const MockResponse &response)
{
    QMutexLocker lock(&d->mutex);
    d->defaultResponse = response;
}

int MockServer::requestCount() const
{
    QMutexLocker lock(&d->mutex);
    return int(d->requests.size());
}

int MockServer::connectionCount() const
{
    return d->connections;
}

QList<RecordedRequest> MockServer::requests() const
{
    QMutexLocker lock(&d->mutex);
    return d->requests;
}

std::optional<RecordedRequest> MockServer::takeRequest()
{
    QMutexLocker lock(&d->mutex);
    if (d->untaken.isEmpty())
        return std::nullopt;
    return d->untaken.takeFirst();
}

bool MockServer::waitForRequest(std::chrono::milliseconds timeout)
{
    const auto ready = [this] {
        QMutexLocker lock(&d->mutex);
        return !d->untaken.isEmpty();
    };
    if (ready() || timeout.count() <= 0)
        return ready();
    QEventLoop loop;
    QTimer timer;
    timer.setSingleShot(true);
    connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
    // &loop lives on the calling thread: from another thread the signal arrives queued.
    connect(this, &MockServer::requestReceived, &loop, [&loop] { loop.quit(); });
    timer.start(timeout);
    while (!ready() && timer.isActive())
        loop.exec();
    return ready();
}

QCoro::Task<std::optional<RecordedRequest>> MockServer::nextRequest(
    std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (auto request = takeRequest())
            co_return request;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            co_return std::nullopt;
        co_await qCoro(this, &MockServer::requestReceived, left);
    }
}

QList<RecordedMessage> MockServer::webSocketMessages() const
{
    QMutexLocker lock(&d->mutex);
    return d->messages;
}

} // namespace Reqivo::Testing
