#include "mockhttp1_p.h"

#include <QTcpSocket>

#include <sys/socket.h>

#include <algorithm>

namespace Reqivo::Testing::detail {

namespace {

constexpr QByteArrayView http2Preface("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
constexpr qsizetype maxHeadBytes = 64 * 1024;

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 407:
        return "Proxy Authentication Required";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Content Too Large";
    case 416:
        return "Range Not Satisfiable";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Status";
    }
}

bool hasField(const QList<std::pair<QByteArray, QByteArray>> &fields, QByteArrayView name)
{
    return std::any_of(fields.begin(), fields.end(), [name](const auto &field) {
        return QByteArrayView(field.first).compare(name, Qt::CaseInsensitive) == 0;
    });
}

// True when the comma-separated field \a name holds \a token (case-insensitive).
bool fieldHasToken(const QList<std::pair<QByteArray, QByteArray>> &fields, QByteArrayView name,
    QByteArrayView token)
{
    for (const auto &[n, v] : fields) {
        if (QByteArrayView(n).compare(name, Qt::CaseInsensitive) != 0)
            continue;
        for (const QByteArray &part : v.split(',')) {
            if (QByteArrayView(part.trimmed()).compare(token, Qt::CaseInsensitive) == 0)
                return true;
        }
    }
    return false;
}

QByteArray chunk(QByteArrayView bytes)
{
    return QByteArray::number(bytes.size(), 16) + "\r\n" + bytes.toByteArray() + "\r\n";
}

QByteArray formatEvent(const MockEvent &event)
{
    if (event.data.isEmpty() && !event.comment.isEmpty())
        return ": " + event.comment + '\n';
    QByteArray out;
    if (!event.event.isEmpty())
        out += "event: " + event.event + '\n';
    if (!event.id.isEmpty())
        out += "id: " + event.id + '\n';
    if (event.retryMs >= 0)
        out += "retry: " + QByteArray::number(event.retryMs) + '\n';
    for (const QByteArray &line : event.data.split('\n'))
        out += "data: " + line + '\n';
    return out + '\n';
}

} // namespace

MockHttp1Connection::MockHttp1Connection(MockServerCore &core, QTcpSocket *socket,
    MockConnectionInfo info, QByteArray alreadyRead, QObject *parent)
    : QObject(parent)
    , m_core(core)
    , m_socket(socket)
    , m_info(info)
    , m_buffer(std::move(alreadyRead))
{
    socket->setParent(this);
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &MockHttp1Connection::play);
    connect(socket, &QTcpSocket::readyRead, this, &MockHttp1Connection::onReadyRead);
    connect(socket, &QTcpSocket::disconnected, this, &MockHttp1Connection::finish);
    connect(socket, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError error) {
        // The peer closing is not the end while its last request is being answered: the
        // socket reports it as an error only once nothing more can be written.
        if (error != QAbstractSocket::RemoteHostClosedError
            || (m_socket && m_socket->state() != QAbstractSocket::ConnectedState))
            finish();
    });
    m_sawBytes = !m_buffer.isEmpty();
    // Bytes may have arrived before the signal was connected.
    QMetaObject::invokeMethod(this, &MockHttp1Connection::onReadyRead, Qt::QueuedConnection);
}

MockHttp1Connection::~MockHttp1Connection()
{
    m_timer.stop();
    if (m_socket)
        m_socket->disconnect(this);
}

void MockHttp1Connection::onReadyRead()
{
    if (m_finished || !m_socket)
        return;
    const QByteArray bytes = m_socket->readAll();
    if (!bytes.isEmpty())
        m_sawBytes = true;
    m_buffer += bytes;
    process();
}

bool MockHttp1Connection::startsAsHttp2()
{
    if (m_requests > 0 || m_core.protocols() == MockServer::Protocols::Http1)
        return false;
    const qsizetype n = std::min(m_buffer.size(), http2Preface.size());
    return QByteArrayView(m_buffer).first(n) == http2Preface.first(n);
}

void MockHttp1Connection::process()
{
    while (!m_busy && !m_finished && m_socket) {
        if (startsAsHttp2()) {
            if (m_buffer.size() < http2Preface.size())
                return; // the preface so far: wait for the rest
            // Prior-knowledge HTTP/2: the handler takes the socket and every byte so far.
            QTcpSocket *socket = m_socket;
            socket->disconnect(this);
            m_socket = nullptr;
            createHttp2Handler(m_core, socket, m_info, std::exchange(m_buffer, {}), parent());
            finish();
            return;
        }
        if (m_requests == 0 && m_core.protocols() == MockServer::Protocols::Http2Only) {
            if (m_sawBytes)
                resetConnection(); // not HTTP/2: refused
            return;
        }
        RecordedRequest request;
        int badStatus = 400;
        bool continueWanted = false;
        switch (parseHttp1Request(m_buffer, request, badStatus, false, &continueWanted)) {
        case Http1Parse::NeedMore:
            if (continueWanted && !m_continueSent) {
                m_continueSent = true;
                m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
            }
            return;
        case Http1Parse::Bad:
            reject(badStatus);
            return;
        case Http1Parse::Complete:
            break;
        }
        m_continueSent = false;
        request.connectionIndex = m_info.connectionIndex;
        request.tls = m_info.tls;
        request.indexOnConnection = m_requests++;
        m_busy = true;
        const MockResponse response = m_core.respond(request);
        if (m_finished || !m_socket)
            return;
        if (response.webSocketScript()) {
            QTcpSocket *socket = m_socket;
            socket->disconnect(this);
            m_socket = nullptr;
            createWebSocketPlayer(
                m_core, socket, m_info, request, response, std::exchange(m_buffer, {}), parent());
            finish();
            return;
        }
        serve(request, response);
    }
}

Http1Parse parseHttp1Request(
    QByteArray &buffer, RecordedRequest &out, int &badStatus, bool lenient, bool *continueWanted)
{
    // Empty lines before a request line are ignored (RFC 9112 §2.2).
    if (!lenient) {
        while (buffer.startsWith("\r\n"))
            buffer.remove(0, 2);
    }
    const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
    if (headEnd < 0) {
        if (!lenient && buffer.size() > maxHeadBytes) {
            badStatus = 431;
            return Http1Parse::Bad;
        }
        return Http1Parse::NeedMore;
    }
    if (!lenient && headEnd > maxHeadBytes) {
        badStatus = 431;
        return Http1Parse::Bad;
    }
    const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    if (!lenient
        && (requestLine.size() != 3 || requestLine[0].isEmpty() || requestLine[1].isEmpty()
            || !requestLine[2].startsWith("HTTP/1.")))
        return Http1Parse::Bad;
    RecordedRequest r;
    r.method = requestLine.value(0);
    r.target = requestLine.value(1);
    r.httpVersion = requestLine.value(2);
    r.head = buffer.left(headEnd);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].endsWith('\r') ? lines[i].chopped(1) : lines[i];
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0) {
            if (lenient)
                continue;
            return Http1Parse::Bad;
        }
        r.headers.append({line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
    }
    r.chunked = fieldHasToken(r.headers, "transfer-encoding", "chunked");
    qsizetype pos = headEnd + 4;
    if (r.chunked) {
        while (true) {
            const qsizetype lineEnd = buffer.indexOf("\r\n", pos);
            if (lineEnd < 0)
                break;
            bool ok = false;
            const qint64 size
                = buffer.mid(pos, lineEnd - pos).split(';').value(0).trimmed().toLongLong(&ok, 16);
            if (!ok || size < 0)
                return Http1Parse::Bad;
            pos = lineEnd + 2;
            if (size == 0) {
                // The trailer section, ended by an empty line; trailers are recorded as headers.
                QList<std::pair<QByteArray, QByteArray>> trailers;
                while (true) {
                    const qsizetype end = buffer.indexOf("\r\n", pos);
                    if (end < 0)
                        return Http1Parse::NeedMore;
                    const QByteArray line = buffer.mid(pos, end - pos);
                    pos = end + 2;
                    if (line.isEmpty())
                        break;
                    const qsizetype colon = line.indexOf(':');
                    if (colon > 0)
                        trailers.append(
                            {line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
                }
                r.headers += trailers;
                buffer.remove(0, pos);
                out = std::move(r);
                return Http1Parse::Complete;
            }
            if (buffer.size() < pos + size + 2)
                break;
            r.body += buffer.mid(pos, size);
            pos += size + 2;
        }
    } else {
        bool ok = true;
        const QByteArray lengthField = r.header("content-length");
        const qint64 length = lengthField.isEmpty() ? 0 : lengthField.toLongLong(&ok);
        if (!ok || length < 0)
            return Http1Parse::Bad;
        if (buffer.size() >= pos + length) {
            r.body = buffer.mid(pos, length);
            buffer.remove(0, pos + length);
            out = std::move(r);
            return Http1Parse::Complete;
        }
    }
    if (continueWanted && fieldHasToken(r.headers, "expect", "100-continue"))
        *continueWanted = true;
    return Http1Parse::NeedMore;
}

void MockHttp1Connection::serve(const RecordedRequest &request, const MockResponse &response)
{
    switch (response.fault()) {
    case MockResponse::Fault::Stall:
        return; // m_busy stays set: nothing more is read or answered
    case MockResponse::Fault::Reset:
        resetConnection();
        return;
    case MockResponse::Fault::CloseBeforeHead:
        m_socket->disconnectFromHost();
        return;
    case MockResponse::Fault::None:
        break;
    }

    const int status = response.status();
    const bool head = request.method == "HEAD";
    const bool noBody = head || status == 204 || status == 304 || (status >= 100 && status < 200);
    const auto &fields = response.headers();
    const bool userFraming
        = hasField(fields, "content-length") || hasField(fields, "transfer-encoding");
    const bool eventStream = response.isEventStream();
    const bool chunked = !userFraming && (eventStream || response.chunkSize() > 0);

    m_closeAfter = fieldHasToken(request.headers, "connection", "close")
        || fieldHasToken(fields, "connection", "close")
        || (request.httpVersion == "HTTP/1.0"
            && !fieldHasToken(request.headers, "connection", "keep-alive"));

    QByteArray headBytes = "HTTP/1.1 " + QByteArray::number(status) + ' '
        + (response.reason().isEmpty() ? reasonPhrase(status) : response.reason()) + "\r\n";
    for (const auto &[name, value] : fields)
        headBytes += name + ": " + value + "\r\n";
    if (!userFraming && status != 204 && status != 304 && status >= 200) {
        if (chunked)
            headBytes += "Transfer-Encoding: chunked\r\n";
        else
            headBytes += "Content-Length: " + QByteArray::number(response.body().size()) + "\r\n";
    }
    if (m_closeAfter && !hasField(fields, "connection"))
        headBytes += "Connection: close\r\n";
    headBytes += "\r\n";

    m_pieces.clear();
    m_written = 0;
    m_cap = response.disconnectAfterBytes();
    m_keepOpen = false;
    m_pieces.append({response.headDelay(), headBytes});
    if (!noBody) {
        if (eventStream) {
            for (const MockEvent &event : response.events())
                m_pieces.append({event.delay, chunk(formatEvent(event))});
            if (response.keepsStreamOpen())
                m_keepOpen = true;
            else
                m_pieces.append({std::chrono::milliseconds(0), "0\r\n\r\n"});
        } else {
            QByteArray body;
            if (chunked) {
                const QByteArray &plain = response.body();
                for (qsizetype at = 0; at < plain.size(); at += response.chunkSize())
                    body += chunk(QByteArrayView(plain).sliced(
                        at, std::min(response.chunkSize(), plain.size() - at)));
                body += "0\r\n\r\n";
            } else {
                body = response.body();
            }
            const qsizetype step = response.throttleBytes();
            if (step > 0 && !body.isEmpty()) {
                for (qsizetype at = 0; at < body.size(); at += step)
                    m_pieces.append(
                        {at == 0 ? std::chrono::milliseconds(0) : response.throttlePeriod(),
                            body.mid(at, step)});
            } else if (!body.isEmpty()) {
                m_pieces.append({std::chrono::milliseconds(0), body});
            }
        }
    }
    play();
}

void MockHttp1Connection::play()
{
    while (!m_finished && m_socket && !m_pieces.isEmpty()) {
        Piece &next = m_pieces.first();
        if (next.delay.count() > 0) {
            const auto delay = std::exchange(next.delay, std::chrono::milliseconds(0));
            m_timer.start(delay);
            return;
        }
        const QByteArray bytes = m_pieces.takeFirst().bytes;
        if (!writePiece(bytes))
            return;
    }
    if (!m_finished && m_socket && m_pieces.isEmpty() && !m_keepOpen)
        responseDone();
}

bool MockHttp1Connection::writePiece(const QByteArray &bytes)
{
    if (m_cap >= 0 && m_written + bytes.size() >= m_cap) {
        // Disconnect after N bytes: the first N go out, then a clean close.
        const qint64 room = m_cap - m_written;
        m_socket->write(bytes.first(room));
        m_written = m_cap;
        m_pieces.clear();
        m_keepOpen = false;
        m_socket->disconnectFromHost();
        return false;
    }
    m_socket->write(bytes);
    m_socket->flush();
    m_written += bytes.size();
    return true;
}

void MockHttp1Connection::responseDone()
{
    m_busy = false;
    if (m_closeAfter) {
        m_socket->disconnectFromHost();
        return;
    }
    process();
}

void MockHttp1Connection::reject(int status)
{
    m_busy = true;
    m_buffer.clear();
    m_socket->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status)
        + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    m_socket->disconnectFromHost();
}

void MockHttp1Connection::resetConnection()
{
    // SO_LINGER 0: the kernel answers the close with RST instead of FIN.
    const linger hard {1, 0};
    ::setsockopt(int(m_socket->socketDescriptor()), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    m_socket->abort();
    finish();
}

void MockHttp1Connection::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    m_timer.stop();
    m_pieces.clear();
    deleteLater();
}

} // namespace Reqivo::Testing::detail
