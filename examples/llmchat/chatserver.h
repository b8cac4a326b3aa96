// ChatServer: a scripted OpenAI-compatible chat endpoint on loopback, for the llmchat example's
// --self-test (no model, no network: the reply is made from the prompt).
//
// A QTcpServer on 127.0.0.1 (a free port) in the caller's thread. It answers
// POST /v1/chat/completions with a JSON body {model, stream: true, messages: [...]} the way the
// OpenAI API streams a completion: HTTP/1.1 200, Content-Type: text/event-stream, chunked, one
// event per token from a timer,
//
//   data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,
//          "delta":{"content":"Hello"},"finish_reason":null}]}
//
// the first carrying {"role":"assistant"} and no content, a last one with finish_reason "stop",
// then `data: [DONE]` and the end of the response; the connection stays open for the next
// request. A body without `stream: true` or without messages is answered 400 with an OpenAI
// style {"error": {...}} object. It remembers what the last request carried and counts streams
// that ended and streams the client cut off (a Stop button), so a test can check both.
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>

namespace LlmChat {

class ChatServer : public QObject
{
public:
    //! Milliseconds between two tokens of a reply.
    static constexpr int tokenIntervalMs = 8;

    explicit ChatServer(QObject *parent = nullptr)
        : QObject(parent)
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection())
                accept(socket);
        });
    }

    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    //! http://127.0.0.1:<port>/v1/chat/completions
    QUrl endpoint() const
    {
        return QUrl(
            QStringLiteral("http://127.0.0.1:%1/v1/chat/completions").arg(m_server.serverPort()));
    }

    //! The tokens of the reply to \a prompt, in order: a greeting that repeats the prompt, or,
    //! for a prompt starting with "count to N", the numbers 1..N (a long reply, to stop).
    static QStringList tokensFor(const QString &prompt)
    {
        QStringList tokens;
        if (prompt.startsWith(QLatin1String("count to "))) {
            const int n = prompt.mid(9).toInt();
            for (int i = 1; i <= n; ++i)
                tokens << QString::number(i) + QLatin1Char(' ');
            return tokens;
        }
        const QString text = QStringLiteral("Hello! You said: \u201c%1\u201d. This reply was "
                                            "streamed token by token.")
                                 .arg(prompt);
        // Words with their trailing space, as tokenizers cut text.
        qsizetype start = 0;
        for (qsizetype i = 0; i < text.size(); ++i) {
            if (text[i] == QLatin1Char(' ')) {
                tokens << text.mid(start, i - start + 1);
                start = i + 1;
            }
        }
        tokens << text.mid(start);
        return tokens;
    }

    //! The body and Authorization field of the latest chat request.
    QJsonObject lastRequest() const { return m_lastRequest; }
    QByteArray lastAuthorization() const { return m_lastAuthorization; }
    //! Streams sent to their end, and streams whose client went away before their end.
    int completedStreams() const { return m_completed; }
    int cutStreams() const { return m_cut; }

private:
    // One connection: unparsed bytes, and the stream in progress (if any).
    struct Connection : QObject
    {
        explicit Connection(QTcpSocket *socket)
            : QObject(socket)
            , socket(socket)
        {
        }
        QTcpSocket *socket;
        QByteArray buffer;
        QPointer<QTimer> streaming;
    };

    void accept(QTcpSocket *socket)
    {
        socket->setParent(this);
        auto *c = new Connection(socket);
        connect(socket, &QTcpSocket::readyRead, c, [this, c] { serve(c); });
        connect(socket, &QTcpSocket::disconnected, this, [this, c, socket] {
            if (c->streaming) {
                ++m_cut; // the client stopped reading before the end
                c->streaming->stop();
            }
            socket->deleteLater();
        });
    }

    static QByteArray chunk(const QByteArray &data)
    {
        return QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n";
    }
    static QByteArray event(const QJsonObject &delta, const QJsonValue &finishReason)
    {
        const QJsonObject choice {{QStringLiteral("index"), 0}, {QStringLiteral("delta"), delta},
            {QStringLiteral("finish_reason"), finishReason}};
        const QJsonObject body {{QStringLiteral("id"), QStringLiteral("chatcmpl-1")},
            {QStringLiteral("object"), QStringLiteral("chat.completion.chunk")},
            {QStringLiteral("choices"), QJsonArray {choice}}};
        return chunk("data: " + QJsonDocument(body).toJson(QJsonDocument::Compact) + "\n\n");
    }

    void answer(QTcpSocket *socket, int status, const QByteArray &reason, const QByteArray &body)
    {
        socket->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reason
            + "\r\nContent-Type: application/json\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    }
    void refuse(QTcpSocket *socket, int status, const QByteArray &reason, const QString &message)
    {
        const QJsonObject error {{QStringLiteral("message"), message},
            {QStringLiteral("type"), QStringLiteral("invalid_request_error")}};
        answer(socket, status, reason,
            QJsonDocument(QJsonObject {{QStringLiteral("error"), error}})
                .toJson(QJsonDocument::Compact));
    }

    // Takes whole requests out of the buffer, one at a time; none while a stream goes out.
    void serve(Connection *c)
    {
        c->buffer += c->socket->readAll();
        while (!c->streaming) {
            const qsizetype end = c->buffer.indexOf("\r\n\r\n");
            if (end < 0)
                return;
            const QList<QByteArray> lines = c->buffer.left(end).split('\n');
            const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
            qint64 length = 0;
            QByteArray authorization;
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const qsizetype colon = lines[i].indexOf(':');
                const QByteArray name = lines[i].left(colon).trimmed().toLower();
                const QByteArray value = lines[i].mid(colon + 1).trimmed();
                if (name == "content-length")
                    length = value.toLongLong();
                else if (name == "authorization")
                    authorization = value;
            }
            if (c->buffer.size() < end + 4 + length)
                return;
            const QByteArray body = c->buffer.mid(end + 4, length);
            c->buffer.remove(0, end + 4 + length);
            route(c, requestLine.value(0), requestLine.value(1), authorization, body);
        }
    }

    void route(Connection *c, const QByteArray &method, const QByteArray &target,
        const QByteArray &authorization, const QByteArray &body)
    {
        if (method != "POST" || target != "/v1/chat/completions") {
            refuse(c->socket, 404, "Not Found", QStringLiteral("no such route"));
            return;
        }
        m_lastAuthorization = authorization;
        m_lastRequest = QJsonDocument::fromJson(body).object();
        const QJsonArray messages = m_lastRequest.value(QStringLiteral("messages")).toArray();
        if (m_lastRequest.value(QStringLiteral("stream")) != QJsonValue(true)
            || messages.isEmpty()) {
            refuse(c->socket, 400, "Bad Request",
                QStringLiteral("expected {stream: true, messages: [...]}"));
            return;
        }
        const QString prompt
            = messages.last().toObject().value(QStringLiteral("content")).toString();
        QStringList tokens = tokensFor(prompt);

        c->socket->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n");
        c->socket->write(event(
            QJsonObject {{QStringLiteral("role"), QStringLiteral("assistant")}}, QJsonValue::Null));
        auto *timer = new QTimer(c);
        c->streaming = timer;
        connect(timer, &QTimer::timeout, c, [this, c, timer, tokens, next = 0]() mutable {
            if (next < tokens.size()) {
                c->socket->write(event(
                    QJsonObject {{QStringLiteral("content"), tokens[next++]}}, QJsonValue::Null));
                return;
            }
            c->socket->write(event(QJsonObject {}, QStringLiteral("stop")));
            c->socket->write(chunk("data: [DONE]\n\n") + "0\r\n\r\n");
            timer->deleteLater();
            c->streaming = nullptr;
            ++m_completed;
            serve(c); // a request that came meanwhile
        });
        timer->start(tokenIntervalMs);
    }

    QTcpServer m_server;
    QJsonObject m_lastRequest;
    QByteArray m_lastAuthorization;
    int m_completed = 0;
    int m_cut = 0;
};

} // namespace LlmChat
