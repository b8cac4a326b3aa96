// HttpClient: properties forwarded to an AsyncSession, verbs turned into HttpTasks.
#include "httpclient.h"

#include "httptask.h"
#include "jsconvert_p.h"

#include <Reqivo/asyncsession.h>
#include <Reqivo/reply.h>

#include <QJSEngine>

namespace Reqivo::Qml {

HttpClient::HttpClient(QObject *parent)
    : QObject(parent)
    , m_session(new AsyncSession(this))
{
    m_loading.setBinding([this] { return m_activeRequests.value() > 0; });
}

HttpClient::~HttpClient()
{
    // Their callbacks would run into a half-destroyed QML scene: cancel without calling back.
    for (HttpTask *task : std::exchange(m_tasks, {}))
        task->cancelSilently();
}

QUrl HttpClient::baseUrl() const
{
    return m_session->baseUrl();
}

void HttpClient::setBaseUrl(const QUrl &url)
{
    if (url == m_session->baseUrl())
        return;
    m_session->setBaseUrl(url);
    Q_EMIT baseUrlChanged();
}

void HttpClient::setHeaders(const QVariantMap &headers)
{
    if (headers == m_headers)
        return;
    m_headers = headers;
    m_session->setDefaultHeaders(headersFromMap(headers));
    Q_EMIT headersChanged();
}

void HttpClient::setBearerToken(const QString &token)
{
    if (token == m_bearerToken)
        return;
    m_bearerToken = token;
    if (token.isEmpty())
        m_session->clearAuth();
    else
        m_session->setBearerToken(token);
    Q_EMIT bearerTokenChanged();
}

int HttpClient::timeout() const
{
    return int(m_session->timeout().read.count());
}

void HttpClient::setTimeout(int milliseconds)
{
    milliseconds = qMax(milliseconds, 0);
    if (milliseconds == timeout())
        return;
    m_session->setTimeout(withPhaseTimeout(m_session->timeout(), milliseconds));
    Q_EMIT timeoutChanged();
}

bool HttpClient::followRedirects() const
{
    return m_session->followRedirects();
}

void HttpClient::setFollowRedirects(bool follow)
{
    if (follow == followRedirects())
        return;
    m_session->setFollowRedirects(follow);
    Q_EMIT followRedirectsChanged();
}

int HttpClient::maxRedirects() const
{
    return m_session->maxRedirects();
}

void HttpClient::setMaxRedirects(int max)
{
    if (max == maxRedirects())
        return;
    m_session->setMaxRedirects(max);
    Q_EMIT maxRedirectsChanged();
}

HttpTask *HttpClient::get(const QUrl &url, const QJSValue &options)
{
    return start("GET", url, nullptr, options, false);
}

HttpTask *HttpClient::head(const QUrl &url, const QJSValue &options)
{
    return start("HEAD", url, nullptr, options, false);
}

HttpTask *HttpClient::del(const QUrl &url, const QJSValue &options)
{
    return start("DELETE", url, nullptr, options, false);
}

HttpTask *HttpClient::post(const QUrl &url, const QJSValue &body, const QJSValue &options)
{
    return start("POST", url, &body, options, false);
}

HttpTask *HttpClient::put(const QUrl &url, const QJSValue &body, const QJSValue &options)
{
    return start("PUT", url, &body, options, false);
}

HttpTask *HttpClient::patch(const QUrl &url, const QJSValue &body, const QJSValue &options)
{
    return start("PATCH", url, &body, options, false);
}

HttpTask *HttpClient::request(const QString &method, const QUrl &url, const QJSValue &options)
{
    // Like fetch(): the standard methods are accepted in any case, others are sent as given.
    static const QStringList standard = {QStringLiteral("DELETE"), QStringLiteral("GET"),
        QStringLiteral("HEAD"), QStringLiteral("OPTIONS"), QStringLiteral("PATCH"),
        QStringLiteral("POST"), QStringLiteral("PUT")};
    const QString upper = method.toUpper();
    return start(
        (standard.contains(upper) ? upper : method).toLatin1(), url, nullptr, options, true);
}

void HttpClient::abortAll()
{
    // abort() settles asynchronously, but iterate over a copy all the same.
    const QList<HttpTask *> tasks = m_tasks;
    for (HttpTask *task : tasks)
        task->abort();
}

HttpTask *HttpClient::start(const QByteArray &method, const QUrl &url, const QJSValue *body,
    const QJSValue &options, bool bodyInOptions)
{
    QJSEngine *engine = qjsEngine(this);
    RequestOptions opts;
    QString problem = optionsFromJs(engine, options, m_session->timeout(), bodyInOptions, &opts);
    if (problem.isEmpty() && body)
        problem = bodyFromJs(engine, *body, &opts.body);
    if (!problem.isEmpty()) {
        problem = QStringLiteral("HttpClient.%1: %2")
                      .arg(bodyInOptions ? QStringLiteral("request")
                                         : QString::fromLatin1(method).toLower(),
                          problem);
        if (engine)
            engine->throwError(QJSValue::TypeError, problem);
        else
            qCWarning(lcQml).noquote() << problem;
        return nullptr;
    }

    auto *task = new HttpTask(this, method, url);
    task->start(m_session->send(method, url, std::move(opts), task));
    m_tasks.append(task);
    m_activeRequests = int(m_tasks.size());
    if (engine)
        task->m_self = engine->newQObject(task); // JS-owned, and alive while it runs
    else
        task->setParent(this); // a C++ caller: the client owns it
    return task;
}

void HttpClient::taskEnded(HttpTask *task)
{
    if (m_tasks.removeOne(task))
        m_activeRequests = int(m_tasks.size());
}

} // namespace Reqivo::Qml
