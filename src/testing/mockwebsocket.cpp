// MockServer's WebSocket script player: the server side of RFC 6455 on a connection whose
// upgrade request the core has recorded and answered with a WebSocket script
// (createWebSocketPlayer(), declared in mockserver_p.h, which also states the lifetime rules
// followed here).
//
//   QObject *createWebSocketPlayer(MockServerCore &core, QTcpSocket *socket,
//                                  MockConnectionInfo info, RecordedRequest request,
//                                  MockResponse response, QByteArray alreadyRead,
//                                  QObject *parent);
//
// The handshake: a request that is not a valid upgrade (GET, Upgrade: websocket, Connection:
// upgrade, a Sec-WebSocket-Key of 16 bytes in base64) gets a 400, one of another
// Sec-WebSocket-Version than 13 a 426 naming 13; either way the connection closes. Otherwise,
// after the response's head delay, the 101 goes out with Sec-WebSocket-Accept, the script's
// subprotocol (sent as given, offered by the client or not, so that a client's check can be
// tested) and the response's own header fields.
//
// The script (docs/testing.md, "WebSocket scripts"): steps run in order; frames go out unmasked,
// each message in one frame. Every message the client sends is recorded (core.recordMessage())
// whenever it comes; Expect waits for the next one not yet taken by an earlier Expect (messages
// that came early count). Pings are answered with pongs throughout. EchoUntilClose sends back
// every message not taken yet and every later one until the client closes. Close sends a close
// frame (code and reason as given, even ones a client must refuse; a code <= 0 sends an empty
// close) and waits for the client's close, then closes TCP. Drop closes TCP without a close
// frame, after what was sent before it is written. When the steps run out the connection stays
// open: messages are still recorded and pings answered. A close from the client at any time is
// answered with a close of the same code (an empty one for none) and ends the connection; a
// protocol error by the client with a close of the code the error calls for.
#include "mockserver_p.h"

#include "protocol/websocketcodec.h"

#include <QByteArray>
#include <QCryptographicHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTimer>

#include <chrono>
#include <utility>

namespace Reqivo::Testing::detail {

namespace {

namespace Ws = Reqivo::Protocol::WebSocket;
using Step = WebSocketScript::Step;

// A control frame's payload: at most 125 bytes.
constexpr qsizetype maxControlPayload = 125;

bool hasToken(const QByteArray &value, QByteArrayView token)
{
    for (const QByteArray &part : value.split(',')) {
        if (part.trimmed().compare(token, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

QByteArray acceptValue(const QByteArray &key)
{
    return QCryptographicHash::hash(
        key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", QCryptographicHash::Sha1)
        .toBase64();
}

class WebSocketPlayer : public QObject
{
public:
    WebSocketPlayer(MockServerCore &core, QTcpSocket *socket, MockConnectionInfo info,
        RecordedRequest request, MockResponse response, QByteArray alreadyRead, QObject *parent);
    ~WebSocketPlayer() override;

private:
    enum class State {
        Handshake, // the 101 is not written yet
        Open, // playing the script
        CloseSent, // our close is out: waiting for the client's
        Ending, // closing TCP: nothing more is sent or recorded
    };

    void start();
    void reject(QByteArray statusLine, QByteArray extraFields);
    void writeHead();
    void onReadyRead();
    void processFrames();
    void run();
    void send(Ws::Opcode opcode, QByteArrayView payload);
    void sendClose(int code, QByteArrayView reason);
    void closeTcp();
    void dropWhenWritten();
    void onBytesWritten();
    qint64 pendingBytes() const;
    void finish();

    MockServerCore &m_core;
    QPointer<QTcpSocket> m_socket;
    MockConnectionInfo m_info;
    RecordedRequest m_request;
    MockResponse m_response;
    QByteArray m_alreadyRead;
    QList<Step> m_steps;
    qsizetype m_step = 0;
    State m_state = State::Handshake;
    Ws::FrameParser m_parser {Ws::Role::Server, Ws::Limits {-1, 64 * 1024 * 1024}};
    Ws::FrameWriter m_writer {Ws::Role::Server};
    QList<std::pair<QByteArray, bool>> m_untaken; // received, not yet taken by Expect or echo
    bool m_echo = false;
    bool m_delayPending = false; // a Delay step's timer runs
    bool m_delayDone = false; // the current Delay step's timer fired
    bool m_dropPending = false; // Drop: abort once the output is written
    bool m_inProcess = false;
    bool m_finished = false;
};

WebSocketPlayer::WebSocketPlayer(MockServerCore &core, QTcpSocket *socket, MockConnectionInfo info,
    RecordedRequest request, MockResponse response, QByteArray alreadyRead, QObject *parent)
    : QObject(parent)
    , m_core(core)
    , m_socket(socket)
    , m_info(info)
    , m_request(std::move(request))
    , m_response(std::move(response))
    , m_alreadyRead(std::move(alreadyRead))
{
    socket->setParent(this);
    if (m_response.webSocketScript())
        m_steps = m_response.webSocketScript()->steps();
    connect(socket, &QTcpSocket::readyRead, this, &WebSocketPlayer::onReadyRead);
    connect(socket, &QTcpSocket::bytesWritten, this, &WebSocketPlayer::onBytesWritten);
    if (auto *ssl = qobject_cast<QSslSocket *>(socket))
        connect(ssl, &QSslSocket::encryptedBytesWritten, this, &WebSocketPlayer::onBytesWritten);
    connect(socket, &QTcpSocket::disconnected, this, &WebSocketPlayer::finish);
    // Started from the event loop, so that the core's call returns first.
    QTimer::singleShot(0, this, [this] { start(); });
}

WebSocketPlayer::~WebSocketPlayer()
{
    if (m_socket) {
        QObject::disconnect(m_socket, nullptr, this, nullptr);
        m_socket->abort();
    }
}

void WebSocketPlayer::start()
{
    if (!m_socket || m_socket->state() != QAbstractSocket::ConnectedState) {
        finish();
        return;
    }
    const QByteArray key = m_request.header("sec-websocket-key").trimmed();
    const bool upgrade = m_request.method == "GET"
        && hasToken(m_request.header("upgrade"), "websocket")
        && hasToken(m_request.header("connection"), "upgrade");
    const auto decoded
        = QByteArray::fromBase64Encoding(key, QByteArray::AbortOnBase64DecodingErrors);
    if (!upgrade || !decoded || decoded.decoded.size() != 16) {
        reject(QByteArrayLiteral("HTTP/1.1 400 Bad Request"), {});
        return;
    }
    if (m_request.header("sec-websocket-version").trimmed() != "13") {
        reject(QByteArrayLiteral("HTTP/1.1 426 Upgrade Required"),
            QByteArrayLiteral("Sec-WebSocket-Version: 13\r\n"));
        return;
    }
    if (m_response.headDelay() > std::chrono::milliseconds(0)) {
        QTimer::singleShot(m_response.headDelay(), this, [this] { writeHead(); });
        return;
    }
    writeHead();
}

void WebSocketPlayer::reject(QByteArray statusLine, QByteArray extraFields)
{
    m_state = State::Ending;
    m_socket->write(
        statusLine + "\r\nContent-Length: 0\r\nConnection: close\r\n" + extraFields + "\r\n");
    closeTcp();
}

void WebSocketPlayer::writeHead()
{
    if (!m_socket || m_finished)
        return;
    const QByteArray reason = m_response.reason().isEmpty()
        ? QByteArrayLiteral("Switching Protocols")
        : m_response.reason();
    QByteArray head = "HTTP/1.1 101 " + reason + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Accept: " + acceptValue(m_request.header("sec-websocket-key").trimmed())
        + "\r\n";
    const QByteArray subprotocol
        = m_response.webSocketScript() ? m_response.webSocketScript()->subprotocol() : QByteArray();
    if (!subprotocol.isEmpty())
        head += "Sec-WebSocket-Protocol: " + subprotocol + "\r\n";
    for (const auto &[name, value] : m_response.headers())
        head += name + ": " + value + "\r\n";
    head += "\r\n";
    m_socket->write(head);
    m_state = State::Open;
    m_parser.receiveData(m_alreadyRead);
    m_alreadyRead.clear();
    m_parser.receiveData(m_socket->readAll());
    processFrames();
    run();
}

void WebSocketPlayer::onReadyRead()
{
    if (!m_socket || m_state == State::Handshake || m_state == State::Ending)
        return;
    m_parser.receiveData(m_socket->readAll());
    processFrames();
}

void WebSocketPlayer::processFrames()
{
    if (m_inProcess) // recordMessage() ran an event loop: the outer call goes on
        return;
    m_inProcess = true;
    bool gotMessage = false;
    while (m_state == State::Open || m_state == State::CloseSent) {
        Ws::FrameParser::Event event = m_parser.nextEvent();
        switch (event.type) {
        case Ws::FrameParser::EventType::NeedData:
            m_inProcess = false;
            if (gotMessage)
                run();
            return;
        case Ws::FrameParser::EventType::TextMessage:
        case Ws::FrameParser::EventType::BinaryMessage: {
            const bool binary = event.type == Ws::FrameParser::EventType::BinaryMessage;
            RecordedMessage message;
            message.data = event.payload;
            message.binary = binary;
            message.connectionIndex = m_info.connectionIndex;
            m_core.recordMessage(message);
            if (m_state != State::Open)
                break;
            if (m_echo)
                send(binary ? Ws::Opcode::Binary : Ws::Opcode::Text, event.payload);
            else
                m_untaken.append({event.payload, binary});
            gotMessage = true;
            break;
        }
        case Ws::FrameParser::EventType::Ping:
            send(Ws::Opcode::Pong, event.payload);
            break;
        case Ws::FrameParser::EventType::Pong:
            break;
        case Ws::FrameParser::EventType::Close:
            if (m_state == State::Open) // answer it: the same code, or none
                sendClose(event.closeCode == Ws::CloseCode::NoStatus ? 0 : event.closeCode, {});
            m_state = State::Ending;
            closeTcp();
            break;
        case Ws::FrameParser::EventType::Error:
            sendClose(m_parser.errorCloseCode(), {});
            m_state = State::Ending;
            closeTcp();
            break;
        }
    }
    m_inProcess = false;
}

void WebSocketPlayer::run()
{
    while (m_state == State::Open && m_step < m_steps.size() && !m_echo) {
        const Step &step = m_steps.at(m_step);
        switch (step.kind) {
        case Step::Kind::SendText:
            send(Ws::Opcode::Text, step.payload);
            break;
        case Step::Kind::SendBinary:
            send(Ws::Opcode::Binary, step.payload);
            break;
        case Step::Kind::Ping:
            send(Ws::Opcode::Ping,
                QByteArrayView(step.payload)
                    .first(std::min(step.payload.size(), maxControlPayload)));
            break;
        case Step::Kind::Expect:
            if (m_untaken.isEmpty())
                return; // processFrames() runs the script on when a message comes
            m_untaken.removeFirst();
            break;
        case Step::Kind::EchoUntilClose:
            m_echo = true;
            for (const auto &[payload, binary] : std::exchange(m_untaken, {}))
                send(binary ? Ws::Opcode::Binary : Ws::Opcode::Text, payload);
            return;
        case Step::Kind::Delay:
            if (m_delayPending)
                return;
            if (!m_delayDone && step.delay > std::chrono::milliseconds(0)) {
                m_delayPending = true;
                QTimer::singleShot(step.delay, this, [this] {
                    m_delayPending = false;
                    m_delayDone = true;
                    run();
                });
                return;
            }
            m_delayDone = false;
            break;
        case Step::Kind::Close:
            ++m_step;
            sendClose(step.code, step.payload);
            m_state = State::CloseSent;
            return;
        case Step::Kind::Drop:
            ++m_step;
            m_state = State::Ending;
            dropWhenWritten();
            return;
        }
        ++m_step;
    }
}

void WebSocketPlayer::send(Ws::Opcode opcode, QByteArrayView payload)
{
    if (!m_socket)
        return;
    QByteArray frame;
    // writeFrame() checks no UTF-8: a script may send invalid text to test a client.
    if (m_writer.writeFrame(frame, opcode, payload))
        m_socket->write(frame);
}

void WebSocketPlayer::sendClose(int code, QByteArrayView reason)
{
    QByteArray payload;
    if (code > 0) {
        payload.append(char((code >> 8) & 0xff));
        payload.append(char(code & 0xff));
        payload.append(reason.first(std::min(reason.size(), maxControlPayload - 2)));
    }
    send(Ws::Opcode::Close, payload);
}

qint64 WebSocketPlayer::pendingBytes() const
{
    if (!m_socket)
        return 0;
    qint64 pending = m_socket->bytesToWrite();
    if (const auto *ssl = qobject_cast<const QSslSocket *>(m_socket.data()))
        pending += ssl->encryptedBytesToWrite();
    return pending;
}

void WebSocketPlayer::closeTcp()
{
    if (!m_socket)
        return;
    // Writes what is pending, then closes (disconnected() follows: finish()).
    m_socket->disconnectFromHost();
    if (m_socket && m_socket->state() == QAbstractSocket::UnconnectedState)
        finish();
}

void WebSocketPlayer::dropWhenWritten()
{
    m_dropPending = true;
    onBytesWritten();
}

void WebSocketPlayer::onBytesWritten()
{
    if (!m_dropPending || !m_socket || pendingBytes() > 0)
        return;
    m_dropPending = false;
    m_socket->abort();
    finish();
}

void WebSocketPlayer::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    m_state = State::Ending;
    deleteLater();
}

} // namespace

QObject *createWebSocketPlayer(MockServerCore &core, QTcpSocket *socket, MockConnectionInfo info,
    RecordedRequest request, MockResponse response, QByteArray alreadyRead, QObject *parent)
{
    return new WebSocketPlayer(core, socket, info, std::move(request), std::move(response),
        std::move(alreadyRead), parent);
}

} // namespace Reqivo::Testing::detail
