// MockServer: the listener, TLS, the recording and the choice of answers. Connections are
// handled by MockHttp1Connection (mockhttp1.cpp), the HTTP/2 handler and the WebSocket player
// (mockserver_p.h); they live under d->home, which stop() empties.
#include <Reqivo/Testing/mockserver.h>

#include "mockcertificates_p.h"
#include "mockhttp1_p.h"
#include "mockserver_p.h"
#include "scriptedconnection_p.h"

#include <QEventLoop>
#include <QMutex>
#include <QMutexLocker>
#include <QPointer>
#include <QSocketNotifier>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <qcorosignal.h>

#include <sys/socket.h>
#include <unistd.h>

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

// An accepted descriptor waiting for its first byte (TlsMode::TlsOrPlain); closed if it goes
// before that (the server stopped).
class PendingDescriptor : public QObject
{
public:
    PendingDescriptor(qintptr descriptor, QObject *parent)
        : QObject(parent)
        , descriptor(descriptor)
    {
    }
    ~PendingDescriptor() override
    {
        if (descriptor >= 0)
            ::close(int(descriptor));
    }
    qintptr take() { return std::exchange(descriptor, -1); }

private:
    qintptr descriptor;
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

    RecordedRequest record(RecordedRequest request);
    bool scriptedMode() const { return requestHandler || rawHandler; }
    void incoming(qintptr descriptor);
    void adopt(qintptr descriptor, int index, bool tls);
    void countOpen(QTcpSocket *socket);
    QSslConfiguration serverConfiguration() const;
    void encrypted(QSslSocket *socket, int index);
    ScriptedConnection *adoptScripted(QTcpSocket *socket, int index, bool tls);
    void scriptedRead(ScriptedConnection &connection);
    void closeConnections();

    MockServer *const q;
    Listener *const listener; // a child of q: moves threads with it
    QObject *const home; // the parent of every connection handler and pending TLS socket
    Protocols protocolChoice = Protocols::Http1;
    bool tls = false;
    TlsMode tlsMode = TlsMode::TlsOnly;
    std::optional<QSslConfiguration> customTls; // useTls(configuration)
    detail::MockCertificates certificates;
    // Shared, not copied, when called: a handler keeps its state from call to call, and one
    // replaced while it runs lives until it returns. Likewise the dispatcher.
    std::shared_ptr<RequestHandler> requestHandler;
    std::shared_ptr<RawHandler> rawHandler;
    std::shared_ptr<AcceptHandler> acceptHandler;
    QList<QPointer<ScriptedConnection>> scripted; // the server's thread only
    int inRespond = 0; // respond() calls in progress (user code may call stop() from them)

    std::atomic_int connections {0};
    std::atomic_int openConnections {0};
    std::atomic_int maxOpenConnections {0};
    std::atomic<qint64> scriptedBytes {0};
    std::atomic<quint16> listeningPort {0};

    mutable QMutex mutex; // guards everything below (tests read from other threads)
    QList<MockResponse> queue;
    std::shared_ptr<Dispatcher> dispatcher;
    MockResponse defaultResponse {404};
    QList<RecordedRequest> requests;
    QList<RecordedRequest> untaken;
    QList<RecordedMessage> messages;
    int nextSequence = 0;
};

RecordedRequest MockServer::Private::record(RecordedRequest request)
{
    {
        QMutexLocker lock(&mutex);
        request.sequenceNumber = nextSequence++;
        requests.append(request);
        untaken.append(request);
    }
    Q_EMIT q->requestReceived(request);
    return request;
}

MockResponse MockServer::Private::respond(RecordedRequest request)
{
    std::shared_ptr<Dispatcher> chosen;
    {
        QMutexLocker lock(&mutex);
        chosen = dispatcher;
    }
    ++inRespond;
    request = record(std::move(request));
    MockResponse response;
    bool answered = false;
    if (chosen) {
        try {
            response = (*chosen)(request);
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
    if (!tls || tlsMode == TlsMode::TlsOnly) {
        adopt(descriptor, index, tls);
        return;
    }
    // Wait for the first byte and peek at it: a TLS record starts with 0x16 (handshake).
    auto *pending = new PendingDescriptor(descriptor, home);
    auto *notifier = new QSocketNotifier(descriptor, QSocketNotifier::Read, pending);
    QObject::connect(notifier, &QSocketNotifier::activated, home, [this, pending, notifier, index] {
        notifier->setEnabled(false);
        const qintptr fd = pending->take();
        pending->deleteLater();
        char first = 0;
        if (::recv(int(fd), &first, 1, MSG_PEEK) != 1) {
            ::close(int(fd));
            return;
        }
        adopt(fd, index, first == 0x16);
    });
}

void MockServer::Private::adopt(qintptr descriptor, int index, bool overTls)
{
    QTcpSocket *socket = overTls ? new QSslSocket(home) : new QTcpSocket(home);
    if (!socket->setSocketDescriptor(descriptor)) {
        delete socket;
        ::close(int(descriptor));
        return;
    }
    countOpen(socket);
    if (!overTls) {
        if (scriptedMode())
            adoptScripted(socket, index, false);
        else
            new detail::MockHttp1Connection(*this, socket, {index, false}, {}, home);
        return;
    }
    auto *sslSocket = static_cast<QSslSocket *>(socket);
    sslSocket->setSslConfiguration(serverConfiguration());
    if (scriptedMode()) {
        // The test's handlers see the connection from its start, the handshake included.
        adoptScripted(sslSocket, index, true);
        sslSocket->startServerEncryption();
        return;
    }
    QObject::connect(sslSocket, &QSslSocket::encrypted, home,
        [this, sslSocket, index] { encrypted(sslSocket, index); });
    // A failed handshake: the socket goes (it is not a connection handler's yet).
    QObject::connect(
        sslSocket, &QSslSocket::disconnected, home, [sslSocket] { sslSocket->deleteLater(); });
    QObject::connect(sslSocket, &QSslSocket::errorOccurred, home, [sslSocket] {
        if (!sslSocket->isEncrypted())
            sslSocket->deleteLater();
    });
    sslSocket->startServerEncryption();
}

void MockServer::Private::countOpen(QTcpSocket *socket)
{
    const int open = ++openConnections;
    int peak = maxOpenConnections.load();
    while (open > peak && !maxOpenConnections.compare_exchange_weak(peak, open)) { }
    auto gone = std::make_shared<bool>(false);
    const auto closed = [this, gone] {
        if (!std::exchange(*gone, true))
            --openConnections;
    };
    // q as the context: the handlers disconnect what they connected, not this.
    QObject::connect(socket, &QAbstractSocket::disconnected, q, closed);
    QObject::connect(socket, &QAbstractSocket::errorOccurred, q, closed);
    QObject::connect(socket, &QObject::destroyed, q, closed);
}

QSslConfiguration MockServer::Private::serverConfiguration() const
{
    if (customTls)
        return *customTls;
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
    return config;
}

ScriptedConnection *MockServer::Private::adoptScripted(QTcpSocket *socket, int index, bool overTls)
{
    ScriptedConnection *c = detail::ScriptedAccess::create(socket, index, overTls, home);
    scripted.append(c);
    QObject::connect(socket, &QTcpSocket::readyRead, c, [this, c] { scriptedRead(*c); });
    const auto gone = [c] { detail::ScriptedAccess::state(*c).open = false; };
    QObject::connect(socket, &QTcpSocket::disconnected, c, gone);
    QObject::connect(socket, &QTcpSocket::errorOccurred, c, gone);
    QPointer<ScriptedConnection> guard(c);
    if (const auto handler = acceptHandler) {
        ++inRespond;
        (*handler)(*c);
        --inRespond;
    }
    // A client may have written before the signal was connected.
    if (guard && socket->bytesAvailable() > 0)
        scriptedRead(*c);
    return c;
}

void MockServer::Private::scriptedRead(ScriptedConnection &connection)
{
    auto &state = detail::ScriptedAccess::state(connection);
    if (!state.socket)
        return;
    const QPointer<ScriptedConnection> guard(&connection);
    const QByteArray bytes = state.socket->readAll();
    scriptedBytes += bytes.size();
    state.received += bytes;
    if (const auto handler = rawHandler) {
        ++inRespond;
        (*handler)(connection, bytes);
        --inRespond;
        return;
    }
    state.buffer += bytes;
    while (guard && state.open) {
        RecordedRequest request;
        int badStatus = 400;
        const auto parsed
            = detail::parseHttp1Request(state.buffer, request, badStatus, true, nullptr);
        if (parsed == detail::Http1Parse::NeedMore)
            return;
        if (parsed == detail::Http1Parse::Bad) {
            qWarning("MockServer: a request it cannot parse; the connection is reset");
            connection.reset();
            return;
        }
        request.connectionIndex = state.index;
        request.tls = state.tls;
        request.indexOnConnection = state.requests++;
        ++inRespond;
        request = record(std::move(request));
        const auto handler = requestHandler;
        if (guard && handler)
            (*handler)(connection, request);
        --inRespond;
    }
}

void MockServer::Private::encrypted(QSslSocket *socket, int index)
{
    QObject::disconnect(socket, nullptr, home, nullptr);
    const QByteArray alpn = socket->sslConfiguration().nextNegotiatedProtocol();
    const detail::MockConnectionInfo info {index, true};
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

void MockServer::useTls(TlsMode mode)
{
    if (!d->tls || d->customTls) {
        d->customTls.reset();
        d->certificates = detail::makeMockCertificates();
        if (d->certificates.leaf.isNull() || d->certificates.leafKey.isNull())
            qWarning("MockServer: the TLS certificates could not be made");
    }
    d->tls = true;
    d->tlsMode = mode;
}

void MockServer::useTls(const QSslConfiguration &configuration, TlsMode mode)
{
    d->certificates = detail::MockCertificates();
    d->customTls = configuration;
    d->tls = true;
    d->tlsMode = mode;
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
    if (d->tls && !d->customTls && d->certificates.leafKey.isNull())
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
    d->dispatcher = dispatcher ? std::make_shared<Dispatcher>(std::move(dispatcher)) : nullptr;
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

void MockServer::setRequestHandler(RequestHandler handler)
{
    d->requestHandler = handler ? std::make_shared<RequestHandler>(std::move(handler)) : nullptr;
}

void MockServer::setRawHandler(RawHandler handler)
{
    d->rawHandler = handler ? std::make_shared<RawHandler>(std::move(handler)) : nullptr;
}

void MockServer::setAcceptHandler(AcceptHandler handler)
{
    d->acceptHandler = handler ? std::make_shared<AcceptHandler>(std::move(handler)) : nullptr;
}

QList<QPointer<ScriptedConnection>> MockServer::scriptedConnections() const
{
    return d->scripted;
}

int MockServer::openConnectionCount() const
{
    return d->openConnections;
}

int MockServer::maxOpenConnectionCount() const
{
    return d->maxOpenConnections;
}

qint64 MockServer::bytesReceived() const
{
    return d->scriptedBytes;
}

QList<RecordedMessage> MockServer::webSocketMessages() const
{
    QMutexLocker lock(&d->mutex);
    return d->messages;
}

} // namespace Reqivo::Testing
