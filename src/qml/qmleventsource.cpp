// EventSource (QML): properties become EventSourceOptions at open(); AsyncEventSource's signals
// become QML signals and a bindable readyState.
#include "qmleventsource.h"

#include "httpclient.h"
#include "jsconvert_p.h"

#include <Reqivo/asyncsession.h>

#include <QJSEngine>
#include <QQmlEngine>

namespace Reqivo::Qml {

namespace {

//! Like fetch() and HttpClient: the standard methods in any case, others as given.
QByteArray normalisedMethod(const QString &method)
{
    static const QStringList standard = {QStringLiteral("DELETE"), QStringLiteral("GET"),
        QStringLiteral("HEAD"), QStringLiteral("OPTIONS"), QStringLiteral("PATCH"),
        QStringLiteral("POST"), QStringLiteral("PUT")};
    const QString upper = method.toUpper();
    return (standard.contains(upper) ? upper : method).toLatin1();
}

template<typename T, typename Signal>
void assign(QmlEventSource *self, T &member, const T &value, Signal signal)
{
    if (member == value)
        return;
    member = value;
    Q_EMIT(self->*signal)();
}

QmlEventSource::ReadyState toQml(AsyncEventSource::ReadyState state)
{
    switch (state) {
    case AsyncEventSource::ReadyState::Connecting:
        return QmlEventSource::Connecting;
    case AsyncEventSource::ReadyState::Open:
        return QmlEventSource::Open;
    case AsyncEventSource::ReadyState::Closed:
        return QmlEventSource::Closed;
    }
    return QmlEventSource::Closed;
}

} // namespace

QmlEventSource::QmlEventSource(QObject *parent)
    : QObject(parent)
{
}

QmlEventSource::~QmlEventSource()
{
    if (m_source) {
        m_source->disconnect(this);
        delete m_source.data(); // cancels the request in progress; emits nothing more
    }
}

void QmlEventSource::componentComplete()
{
    m_complete = true;
    if (m_active)
        open();
}

// --- properties ---------------------------------------------------------------------------------

void QmlEventSource::setUrl(const QUrl &value)
{
    assign(this, m_url, value, &QmlEventSource::urlChanged);
}
void QmlEventSource::setMethod(const QString &value)
{
    const bool reconnectWas = reconnect();
    assign(this, m_method, value, &QmlEventSource::methodChanged);
    if (reconnect() != reconnectWas)
        Q_EMIT reconnectChanged();
}
void QmlEventSource::setHeaders(const QVariantMap &value)
{
    assign(this, m_headers, value, &QmlEventSource::headersChanged);
}
void QmlEventSource::setBody(const QJSValue &value)
{
    if (m_body.strictlyEquals(value))
        return;
    m_body = value;
    Q_EMIT bodyChanged();
}
void QmlEventSource::setBearerToken(const QString &value)
{
    assign(this, m_bearerToken, value, &QmlEventSource::bearerTokenChanged);
}
void QmlEventSource::setUser(const QString &value)
{
    assign(this, m_user, value, &QmlEventSource::userChanged);
}
void QmlEventSource::setPassword(const QString &value)
{
    assign(this, m_password, value, &QmlEventSource::passwordChanged);
}
void QmlEventSource::setClient(HttpClient *client)
{
    if (m_client == client)
        return;
    m_client = client;
    Q_EMIT clientChanged();
}
void QmlEventSource::setReconnectionTime(int value)
{
    assign(this, m_reconnectionTime, value, &QmlEventSource::reconnectionTimeChanged);
}
void QmlEventSource::setMaxReconnectDelay(int value)
{
    assign(this, m_maxReconnectDelay, value, &QmlEventSource::maxReconnectDelayChanged);
}
void QmlEventSource::setMaxReconnectAttempts(int value)
{
    assign(this, m_maxReconnectAttempts, value, &QmlEventSource::maxReconnectAttemptsChanged);
}
void QmlEventSource::setIdleTimeout(int value)
{
    assign(this, m_idleTimeout, value, &QmlEventSource::idleTimeoutChanged);
}
void QmlEventSource::setUntil(const QString &value)
{
    assign(this, m_until, value, &QmlEventSource::untilChanged);
}

bool QmlEventSource::reconnect() const
{
    return m_reconnect.value_or(normalisedMethod(m_method) == "GET");
}

void QmlEventSource::setReconnect(bool on)
{
    const bool was = reconnect();
    m_reconnect = on;
    if (was != on)
        Q_EMIT reconnectChanged();
}

void QmlEventSource::resetReconnect()
{
    const bool was = reconnect();
    m_reconnect.reset();
    if (was != reconnect())
        Q_EMIT reconnectChanged();
}

void QmlEventSource::setActive(bool active)
{
    if (m_active == active)
        return;
    m_active = active;
    Q_EMIT activeChanged();
    if (!m_complete)
        return;
    if (active)
        open();
    else
        close();
}

void QmlEventSource::setStatus(int status)
{
    if (m_status == status)
        return;
    m_status = status;
    Q_EMIT statusChanged();
}

void QmlEventSource::setLastEventId(const QString &id)
{
    if (m_lastEventId == id)
        return;
    m_lastEventId = id;
    Q_EMIT lastEventIdChanged();
}

// --- the stream ---------------------------------------------------------------------------------

EventSourceOptions QmlEventSource::makeOptions(QString *problem) const
{
    EventSourceOptions options;
    // Signals only: QML never calls next(), so nothing is kept for it.
    options.queueSize = 0;
    options.method = normalisedMethod(m_method);
    options.reconnect = reconnect();
    options.reconnectionTime = std::chrono::milliseconds(std::max(m_reconnectionTime, 0));
    options.maxReconnectDelay = std::chrono::milliseconds(std::max(m_maxReconnectDelay, 0));
    options.maxReconnectAttempts
        = m_maxReconnectAttempts < 0 ? EventSourceOptions::unlimited : m_maxReconnectAttempts;
    // QML's 0 is "no limit" here, as for every QML timeout of the module; C++'s is noLimit.
    options.idleTimeout
        = m_idleTimeout > 0 ? std::chrono::milliseconds(m_idleTimeout) : Timeout::noLimit;
    if (!m_until.isEmpty()) {
        const QString until = m_until;
        options.until = [until](const ServerSentEvent &e) { return e.data == until; };
    }
    options.request.headers = headersFromMap(m_headers);
    if (!m_bearerToken.isEmpty())
        options.request.headers.set("Authorization", "Bearer " + m_bearerToken.toUtf8());
    else if (!m_user.isEmpty() || !m_password.isEmpty())
        options.request.headers.set("Authorization",
            "Basic " + (m_user + QLatin1Char(':') + m_password).toUtf8().toBase64());
    *problem = bodyFromJs(qmlEngine(this), m_body, &options.request.body);
    return options;
}

void QmlEventSource::reportError(const Reqivo::Error &error, bool fatal)
{
    QJSEngine *engine = qmlEngine(this);
    if (!engine)
        return;
    QJSValue e = errorToJs(engine, error);
    e.setProperty(QStringLiteral("fatal"), fatal);
    Q_EMIT this->error(e);
}

void QmlEventSource::dropSource()
{
    if (!m_source)
        return;
    m_source->disconnect(this);
    m_source->deleteLater(); // it may be inside one of its own signals
    m_source = nullptr;
}

void QmlEventSource::open()
{
    if (m_source && m_source->readyState() != AsyncEventSource::ReadyState::Closed)
        return;
    if (!m_active) {
        m_active = true;
        Q_EMIT activeChanged();
    }
    dropSource();

    QString problem;
    const EventSourceOptions options = makeOptions(&problem);
    if (!problem.isEmpty()) {
        // Nothing was sent: the stream ends before it began, as one refused by the server would.
        QUrl clean = m_url;
        clean.setUserInfo(QString());
        reportError(Reqivo::Error(Reqivo::Error::Kind::Request,
                        QStringLiteral("EventSource.body: ") + problem, clean),
            true);
        Q_EMIT closed();
        if (m_active) {
            m_active = false;
            Q_EMIT activeChanged();
        }
        return;
    }

    HttpClient *client = m_client.data();
    AsyncEventSource *source = client && client->session()
        ? AsyncEventSource::fromSession(*client->session(), m_url, options, this)
        : new AsyncEventSource(m_url, options, this);
    m_source = source;

    connect(source, &AsyncEventSource::readyStateChanged, this,
        [this](AsyncEventSource::ReadyState state) { m_readyState = toQml(state); });
    connect(source, &AsyncEventSource::opened, this, [this, source] {
        setStatus(source->status());
        Q_EMIT opened();
    });
    connect(source, &AsyncEventSource::eventReceived, this, [this](const ServerSentEvent &event) {
        setLastEventId(event.lastEventId);
        QJSEngine *engine = qmlEngine(this);
        if (!engine)
            return;
        QJSValue e = engine->newObject();
        e.setProperty(QStringLiteral("type"), event.type);
        e.setProperty(QStringLiteral("data"), event.data);
        e.setProperty(QStringLiteral("lastEventId"), event.lastEventId);
        Q_EMIT message(e);
    });
    connect(source, &AsyncEventSource::reconnecting, this, &QmlEventSource::reconnecting);
    connect(source, &AsyncEventSource::errorOccurred, this,
        [this, source](const Reqivo::Error &error, bool fatal) {
            setStatus(source->status());
            reportError(error, fatal);
        });
    connect(source, &AsyncEventSource::closed, this, [this, source] {
        setStatus(source->status());
        m_readyState = Closed;
        Q_EMIT closed();
        if (m_active && m_source == source) {
            m_active = false;
            Q_EMIT activeChanged();
        }
    });

    setStatus(0);
    setLastEventId(QString());
    source->open();
}

void QmlEventSource::close()
{
    if (m_source)
        m_source->close(); // closed() and readyState follow from its signals
}

} // namespace Reqivo::Qml
