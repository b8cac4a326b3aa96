// EventSource (QML): Reqivo's AsyncEventSource for QML, a Server-Sent Events client like the
// browser's EventSource, with any method and body (the LLM case: POST with a JSON body), headers
// and auth (or a whole HttpClient's session), reconnection with Last-Event-ID, an idle timeout
// and an "until" data value that ends a stream cleanly.
//
//   import Reqivo
//   EventSource {
//       url: "https://api.example.com/v1/chat/completions"
//       method: "POST"
//       body: ({model: "local", stream: true, messages: [{role: "user", content: "Hi"}]})
//       bearerToken: settings.apiKey
//       until: "[DONE]"
//       active: true
//       onMessage: (event) => reply.text += JSON.parse(event.data).choices[0].delta.content ?? ""
//       onError: (error) => console.warn(error.type, error.message, error.fatal)
//   }
//
// Settings apply at the next open: each open() makes a new AsyncEventSource from them. Events
// arrive only through message() (the C++ queue size is 0: nothing is kept for later, so a
// stream that runs for hours does not fill memory). No SSE logic lives here.
#pragma once

#include <Reqivo/asynceventsource.h>

#include <QJSValue>
#include <QObject>
#include <QPointer>
#include <QProperty>
#include <QQmlParserStatus>
#include <QUrl>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

#include <optional>

namespace Reqivo::Qml {

class HttpClient;

class QmlEventSource : public QObject, public QQmlParserStatus
{
    Q_OBJECT
    QML_NAMED_ELEMENT(EventSource)
    Q_INTERFACES(QQmlParserStatus)
    Q_MOC_INCLUDE("httpclient.h")

    //! The stream's URL; with a client, relative to its baseUrl.
    Q_PROPERTY(QUrl url READ url WRITE setUrl NOTIFY urlChanged)
    //! "GET" unless set; the standard methods are accepted in any case.
    Q_PROPERTY(QString method READ method WRITE setMethod NOTIFY methodChanged)
    //! Extra request headers: {name: value}.
    Q_PROPERTY(QVariantMap headers READ headers WRITE setHeaders NOTIFY headersChanged)
    //! A string (text/plain), an ArrayBuffer or typed array (bytes), or any other value (JSON).
    Q_PROPERTY(QJSValue body READ body WRITE setBody NOTIFY bodyChanged)
    //! "Authorization: Bearer <token>"; wins over user/password and the client's auth.
    Q_PROPERTY(QString bearerToken READ bearerToken WRITE setBearerToken NOTIFY bearerTokenChanged)
    //! Basic auth, when either is set (and no bearer token is).
    Q_PROPERTY(QString user READ user WRITE setUser NOTIFY userChanged)
    Q_PROPERTY(QString password READ password WRITE setPassword NOTIFY passwordChanged)
    //! Open as this HttpClient's session would: its base URL, headers, cookies, auth, TLS, proxy.
    Q_PROPERTY(Reqivo::Qml::HttpClient *client READ client WRITE setClient NOTIFY clientChanged)
    //! True opens (once the component is complete), false closes; turns false when the stream
    //! ends.
    Q_PROPERTY(bool active READ isActive WRITE setActive NOTIFY activeChanged)
    Q_PROPERTY(
        ReadyState readyState READ readyState NOTIFY readyStateChanged BINDABLE bindableReadyState)
    //! The last event ID in effect (sent as Last-Event-ID when reconnecting).
    Q_PROPERTY(QString lastEventId READ lastEventId NOTIFY lastEventIdChanged)
    //! Reconnect when the stream ends or is lost. Unset (or reset with `undefined`): true for
    //! GET, false for every other method, which is never resent unasked.
    Q_PROPERTY(bool reconnect READ reconnect WRITE setReconnect RESET resetReconnect NOTIFY
            reconnectChanged)
    //! Milliseconds before a reconnect (3000); a `retry:` field from the server replaces it.
    Q_PROPERTY(int reconnectionTime READ reconnectionTime WRITE setReconnectionTime NOTIFY
            reconnectionTimeChanged)
    //! The longest wait between attempts after failures in a row (60000).
    Q_PROPERTY(int maxReconnectDelay READ maxReconnectDelay WRITE setMaxReconnectDelay NOTIFY
            maxReconnectDelayChanged)
    //! Failed attempts in a row before giving up; -1 (the default): never.
    Q_PROPERTY(int maxReconnectAttempts READ maxReconnectAttempts WRITE setMaxReconnectAttempts
            NOTIFY maxReconnectAttemptsChanged)
    //! No byte at all (comments count) for this many ms means the stream is lost; 0 or
    //! negative (the default, -1): no limit. There is never a total timeout.
    Q_PROPERTY(int idleTimeout READ idleTimeout WRITE setIdleTimeout NOTIFY idleTimeoutChanged)
    //! A message whose data equals this ends the stream cleanly (it is not delivered), e.g.
    //! "[DONE]"; empty (the default): none.
    Q_PROPERTY(QString until READ until WRITE setUntil NOTIFY untilChanged)
    //! The HTTP status of the latest response; 0 before one came.
    Q_PROPERTY(int status READ status NOTIFY statusChanged)

public:
    //! The values of JavaScript's EventSource.readyState.
    enum ReadyState { Connecting = 0, Open = 1, Closed = 2 };
    Q_ENUM(ReadyState)

    explicit QmlEventSource(QObject *parent = nullptr);
    ~QmlEventSource() override;

    void classBegin() override { }
    void componentComplete() override;

    QUrl url() const { return m_url; }
    void setUrl(const QUrl &url);
    QString method() const { return m_method; }
    void setMethod(const QString &method);
    QVariantMap headers() const { return m_headers; }
    void setHeaders(const QVariantMap &headers);
    QJSValue body() const { return m_body; }
    void setBody(const QJSValue &body);
    QString bearerToken() const { return m_bearerToken; }
    void setBearerToken(const QString &token);
    QString user() const { return m_user; }
    void setUser(const QString &user);
    QString password() const { return m_password; }
    void setPassword(const QString &password);
    HttpClient *client() const { return m_client; }
    void setClient(HttpClient *client);
    bool isActive() const { return m_active; }
    void setActive(bool active);
    ReadyState readyState() const { return m_readyState; }
    QBindable<ReadyState> bindableReadyState() { return &m_readyState; }
    QString lastEventId() const { return m_lastEventId; }
    bool reconnect() const;
    void setReconnect(bool on);
    void resetReconnect();
    int reconnectionTime() const { return m_reconnectionTime; }
    void setReconnectionTime(int milliseconds);
    int maxReconnectDelay() const { return m_maxReconnectDelay; }
    void setMaxReconnectDelay(int milliseconds);
    int maxReconnectAttempts() const { return m_maxReconnectAttempts; }
    void setMaxReconnectAttempts(int attempts);
    int idleTimeout() const { return m_idleTimeout; }
    void setIdleTimeout(int milliseconds);
    QString until() const { return m_until; }
    void setUntil(const QString &data);
    int status() const { return m_status; }

    //! Opens the stream with the current settings (a no-op while it is open or connecting).
    Q_INVOKABLE void open();
    //! Ends the stream at once; no reconnect follows.
    Q_INVOKABLE void close();

    //! The stream underneath (null before the first open), for C++ code.
    AsyncEventSource *source() const { return m_source; }

Q_SIGNALS:
    void urlChanged();
    void methodChanged();
    void headersChanged();
    void bodyChanged();
    void bearerTokenChanged();
    void userChanged();
    void passwordChanged();
    void clientChanged();
    void activeChanged();
    void readyStateChanged();
    void lastEventIdChanged();
    void reconnectChanged();
    void reconnectionTimeChanged();
    void maxReconnectDelayChanged();
    void maxReconnectAttemptsChanged();
    void idleTimeoutChanged();
    void untilChanged();
    void statusChanged();

    //! A response with status 200 and text/event-stream arrived (also after each reconnect).
    void opened();
    //! One event: {type, data, lastEventId}.
    void message(const QJSValue &event);
    //! Attempt \a attempt (1-based) starts in \a delay ms.
    void reconnecting(int attempt, int delay);
    //! A JS Error with type, message, url, code, detail and fatal (true: no reconnect follows).
    void error(const QJSValue &error);
    //! The stream ended (closed by the server with no reconnect, close(), until, or an error).
    void closed();

private:
    EventSourceOptions makeOptions(QString *problem) const;
    void reportError(const Reqivo::Error &error, bool fatal);
    void dropSource();
    void setStatus(int status);
    void setLastEventId(const QString &id);

    QPointer<AsyncEventSource> m_source;
    QPointer<HttpClient> m_client;
    QUrl m_url;
    QString m_method = QStringLiteral("GET");
    QVariantMap m_headers;
    QJSValue m_body;
    QString m_bearerToken;
    QString m_user;
    QString m_password;
    std::optional<bool> m_reconnect;
    int m_reconnectionTime = int(EventSourceOptions::defaultReconnectionTime.count());
    int m_maxReconnectDelay = int(EventSourceOptions::defaultMaxReconnectDelay.count());
    int m_maxReconnectAttempts = EventSourceOptions::unlimited;
    int m_idleTimeout = -1;
    QString m_until;
    QString m_lastEventId;
    int m_status = 0;
    bool m_active = false;
    bool m_complete = false;
    Q_OBJECT_BINDABLE_PROPERTY_WITH_ARGS(
        QmlEventSource, ReadyState, m_readyState, Closed, &QmlEventSource::readyStateChanged)
};

} // namespace Reqivo::Qml
