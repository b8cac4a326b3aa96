// HttpClient: properties forwarded to an AsyncSession, verbs turned into HttpTasks.
#include "httpclient.h"

#include "httptask.h"
#include "jsconvert_p.h"
#include "taskscript_p.h"

#include <Reqivo/asyncsession.h>
#include <Reqivo/cookiejar.h>
#include <Reqivo/reply.h>

#include <QFile>
#include <QJSEngine>
#include <QQmlEngine>
#include <QQmlInfo>
#include <QSaveFile>

#include <algorithm>

namespace Reqivo::Qml {

HttpClient::HttpClient(QObject *parent)
    : QObject(parent)
    , m_session(new AsyncSession(this))
{
    m_loading.setBinding([this] { return m_activeRequests.value() > 0; });
    connect(m_session->cookieJar(), &CookieJar::autoSaveFailed, this,
        [this](const CookieFileError &error) { setCookieFileError(error.toString()); });
}

HttpClient::~HttpClient()
{
    // The cookie file gets the last changes now, not whenever requests still in flight let the
    // session's jar go.
    disconnect(m_session->cookieJar(), nullptr, this, nullptr);
    m_session->cookieJar()->flushAutoSave();
    // Their callbacks would run into a half-destroyed QML scene: cancel without calling back,
    // also the tasks that settled but have not called back yet.
    for (HttpTask *task : std::exchange(m_tasks, {}))
        task->cancelSilently();
}

namespace {

//! "file:///tmp/x" or "/tmp/x" to "/tmp/x"; empty when it is neither (another scheme such as
//! http: or qrc:, or nothing at all).
QString localPath(const QString &pathOrUrl)
{
    const QUrl url(pathOrUrl);
    if (url.scheme().isEmpty())
        return pathOrUrl;
    return url.isLocalFile() ? url.toLocalFile() : QString();
}

//! Like fetch(): the standard methods are accepted in any case, others are sent as given.
QByteArray normalisedMethod(const QString &method)
{
    static const QStringList standard = {QStringLiteral("DELETE"), QStringLiteral("GET"),
        QStringLiteral("HEAD"), QStringLiteral("OPTIONS"), QStringLiteral("PATCH"),
        QStringLiteral("POST"), QStringLiteral("PUT")};
    const QString upper = method.toUpper();
    return (standard.contains(upper) ? upper : method).toLatin1();
}

} // namespace

void HttpClient::setCookieFile(const QString &file)
{
    if (file == m_cookieFile)
        return;
    m_cookieFile = file;
    CookieJar *jar = m_session->cookieJar();
    jar->setAutoSaveFile(QString()); // pending changes go to the previous file first
    QString error;
    if (!file.isEmpty()) {
        const QString path = localPath(file);
        CookieFileError loadError;
        if (path.isEmpty())
            error = QStringLiteral("%1: not a local file").arg(file);
        else if (jar->loadFromFile(path, &loadError)
            || loadError.kind == CookieFileError::Kind::FileNotFound)
            jar->setAutoSaveFile(path); // the library's default: session cookies left out
        else
            error = loadError.toString(); // not loaded, so never overwritten either
    }
    setCookieFileError(error);
    Q_EMIT cookieFileChanged();
}

void HttpClient::setCookieFileError(const QString &error)
{
    if (!error.isEmpty())
        qmlWarning(this) << "cookieFile: " << error;
    if (error == m_cookieFileError)
        return;
    m_cookieFileError = error;
    Q_EMIT cookieFileErrorChanged();
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
    applyAuth();
    Q_EMIT bearerTokenChanged();
}

void HttpClient::setUser(const QString &user)
{
    if (user == m_user)
        return;
    m_user = user;
    applyAuth();
    Q_EMIT userChanged();
}

void HttpClient::setPassword(const QString &password)
{
    if (password == m_password)
        return;
    m_password = password;
    applyAuth();
    Q_EMIT passwordChanged();
}

void HttpClient::setAuthScheme(const QString &scheme)
{
    bool digest = false;
    if (scheme.compare(QLatin1String("digest"), Qt::CaseInsensitive) == 0)
        digest = true;
    else if (scheme.compare(QLatin1String("basic"), Qt::CaseInsensitive) != 0) {
        qmlWarning(this) << "authScheme: \"" << scheme << "\" is not \"basic\" or \"digest\"";
        return;
    }
    if (digest == m_digest)
        return;
    m_digest = digest;
    applyAuth();
    Q_EMIT authSchemeChanged();
}

void HttpClient::setRetry(const QVariantMap &retry)
{
    if (retry == m_retry)
        return;
    RetryPolicy policy;
    if (const QString problem = retryFromVariant(retry, &policy); !problem.isEmpty()) {
        qmlWarning(this) << problem;
        return;
    }
    m_retry = retry;
    m_session->setRetryPolicy(policy);
    Q_EMIT retryChanged();
}

void HttpClient::setPinnedPublicKeys(const QVariantMap &pins)
{
    if (pins == m_pins)
        return;
    TlsOptions tls = m_session->tlsOptions();
    tls.pins.clear();
    for (auto it = pins.cbegin(); it != pins.cend(); ++it) {
        QStringList specs;
        if (it.value().metaType() == QMetaType::fromType<QString>()) {
            specs << it.value().toString();
        } else if (it.value().metaType() == QMetaType::fromType<QVariantList>()
            || it.value().metaType() == QMetaType::fromType<QStringList>()) {
            for (const QVariant &v : it.value().toList())
                specs << v.toString();
        }
        if (specs.isEmpty()) {
            qmlWarning(this) << "pinnedPublicKeys: the pins of \"" << it.key()
                             << "\" must be a string or an array of strings";
            return;
        }
        QString error;
        if (!tls.addPins(it.key(), specs.join(QLatin1Char(';')), &error)) {
            qmlWarning(this) << "pinnedPublicKeys: " << it.key() << ": " << error;
            return;
        }
    }
    m_pins = pins;
    m_session->setTlsOptions(tls);
    Q_EMIT pinnedPublicKeysChanged();
}

bool HttpClient::proxyFromEnvironment() const
{
    return m_session->proxyFromEnvironment();
}

void HttpClient::setProxyFromEnvironment(bool on)
{
    if (on == proxyFromEnvironment())
        return;
    m_session->setProxyFromEnvironment(on);
    Q_EMIT proxyFromEnvironmentChanged();
}

bool HttpClient::useSystemProxy() const
{
    return m_session->useSystemProxy();
}

void HttpClient::setUseSystemProxy(bool on)
{
    if (on == useSystemProxy())
        return;
    m_session->setUseSystemProxy(on);
    Q_EMIT useSystemProxyChanged();
}

QStringList HttpClient::noProxy() const
{
    return m_session->noProxy();
}

void HttpClient::setNoProxy(const QStringList &hosts)
{
    if (hosts == noProxy())
        return;
    m_session->setNoProxy(hosts);
    Q_EMIT noProxyChanged();
}

void HttpClient::applyAuth()
{
    // The session holds one credential: the bearer token when there is one, else Basic (or
    // Digest when asked for).
    if (!m_bearerToken.isEmpty())
        m_session->setBearerToken(m_bearerToken);
    else if ((!m_user.isEmpty() || !m_password.isEmpty()) && m_digest)
        m_session->setDigestAuth(m_user, m_password);
    else if (!m_user.isEmpty() || !m_password.isEmpty())
        m_session->setBasicAuth(m_user, m_password);
    else
        m_session->clearAuth();
}

int HttpClient::timeout() const
{
    const Timeout::ms read = m_session->timeout().read; // QML: 0 for "no limit"
    return Timeout::isNoLimit(read) ? 0 : int(read.count());
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

QString HttpClient::httpVersion() const
{
    return httpVersionName(m_session->httpVersion());
}

void HttpClient::setHttpVersion(const QString &version)
{
    HttpVersion v;
    if (version == QLatin1String("1.1"))
        v = HttpVersion::Http1_1;
    else if (version == QLatin1String("2"))
        v = HttpVersion::Http2;
    else if (version == QLatin1String("2-prior-knowledge"))
        v = HttpVersion::Http2PriorKnowledge;
    else {
        qmlWarning(this) << "httpVersion: \"" << version
                         << "\" is not \"1.1\", \"2\" or \"2-prior-knowledge\"";
        return;
    }
    if (v == m_session->httpVersion())
        return;
    m_session->setHttpVersion(v);
    Q_EMIT httpVersionChanged();
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
    return start(QStringLiteral("get"), "GET", url, nullptr, options, ExtraOption::None);
}

HttpTask *HttpClient::head(const QUrl &url, const QJSValue &options)
{
    return start(QStringLiteral("head"), "HEAD", url, nullptr, options, ExtraOption::None);
}

HttpTask *HttpClient::deleteResource(const QUrl &url, const QJSValue &options)
{
    return start(
        QStringLiteral("deleteResource"), "DELETE", url, nullptr, options, ExtraOption::None);
}

HttpTask *HttpClient::post(const QUrl &url, const QJSValue &body, const QJSValue &options)
{
    return start(QStringLiteral("post"), "POST", url, &body, options, ExtraOption::None);
}

HttpTask *HttpClient::put(const QUrl &url, const QJSValue &body, const QJSValue &options)
{
    return start(QStringLiteral("put"), "PUT", url, &body, options, ExtraOption::None);
}

HttpTask *HttpClient::patch(const QUrl &url, const QJSValue &body, const QJSValue &options)
{
    return start(QStringLiteral("patch"), "PATCH", url, &body, options, ExtraOption::None);
}

HttpTask *HttpClient::request(const QString &method, const QUrl &url, const QJSValue &options)
{
    return start(QStringLiteral("request"), normalisedMethod(method), url, nullptr, options,
        ExtraOption::Body);
}

HttpTask *HttpClient::download(const QUrl &url, const QString &filePath, const QJSValue &options)
{
    const QString caller = QStringLiteral("download");
    RequestOptions opts;
    if (!parseOptions(caller, options, ExtraOption::None, nullptr, &opts, nullptr))
        return nullptr;
    const QString path = localPath(filePath);
    if (path.isEmpty())
        return refuse(caller, QStringLiteral("the file must be a local path or a file: URL"));
    // The body streams through the Reply's bounded read buffer into the file: it is never
    // whole in memory.
    opts.stream = true;
    HttpTask *task = newTask(HttpTask::Kind::Download, "GET", url);
    auto *file = new QSaveFile(path);
    task->setFile(file, path);
    if (!file->open(QIODevice::WriteOnly)) {
        task->failLater(Error(Error::Kind::Request,
                            QStringLiteral("cannot write %1: %2").arg(path, file->errorString()),
                            url, file->errorString()),
            this);
        return task;
    }
    send(task, "GET", url, std::move(opts));
    return task;
}

QmlFormData *HttpClient::formData()
{
    return new QmlFormData; // no parent: the engine owns it (JavaScriptOwnership)
}

HttpTask *HttpClient::upload(const QUrl &url, const QString &filePath, const QJSValue &options)
{
    const QString caller = QStringLiteral("upload");
    RequestOptions opts;
    QString method = QStringLiteral("PUT");
    if (!parseOptions(caller, options, ExtraOption::Method, nullptr, &opts, &method))
        return nullptr;
    const QString path = localPath(filePath);
    if (path.isEmpty())
        return refuse(caller, QStringLiteral("the file must be a local path or a file: URL"));
    const QByteArray verb = normalisedMethod(method);
    HttpTask *task = newTask(HttpTask::Kind::Upload, verb, url);
    auto *file = new QFile(path);
    task->setFile(file, path);
    if (!file->open(QIODevice::ReadOnly)) {
        task->failLater(Error(Error::Kind::Request,
                            QStringLiteral("cannot read %1: %2").arg(path, file->errorString()),
                            url, file->errorString()),
            this);
        return task;
    }
    // Streamed from the file as the connection takes it; replayable (a 307/308 rewinds it). A
    // FIFO has no size: it goes chunked, to its end.
    opts.body = Body::fromDevice(file, file->isSequential() ? -1 : file->size());
    send(task, verb, url, std::move(opts));
    return task;
}

void HttpClient::abortAll()
{
    // abort() settles asynchronously, but iterate over a copy all the same.
    const QList<HttpTask *> tasks = m_tasks;
    for (HttpTask *task : tasks)
        task->abort();
}

bool HttpClient::parseOptions(const QString &caller, const QJSValue &options, ExtraOptions extra,
    const QJSValue *body, RequestOptions *opts, QString *method)
{
    QJSEngine *engine = qjsEngine(this);
    QString problem = optionsFromJs(
        engine, options, m_session->timeout(), extra, opts, method, m_session->retryPolicy());
    if (problem.isEmpty() && body)
        problem = bodyFromJs(engine, *body, &opts->body);
    if (problem.isEmpty())
        return true;
    refuse(caller, problem);
    return false;
}

HttpTask *HttpClient::refuse(const QString &caller, const QString &problem)
{
    const QString message = QStringLiteral("HttpClient.%1: %2").arg(caller, problem);
    if (QJSEngine *engine = qjsEngine(this))
        engine->throwError(QJSValue::TypeError, message);
    else
        qCWarning(lcQml).noquote() << message;
    return nullptr;
}

HttpTask *HttpClient::start(const QString &caller, QByteArray method, const QUrl &url,
    const QJSValue *body, const QJSValue &options, ExtraOptions extra)
{
    RequestOptions opts;
    if (!parseOptions(caller, options, extra, body, &opts, nullptr))
        return nullptr;
    HttpTask *task = newTask(HttpTask::Kind::Request, method, url);
    send(task, method, url, std::move(opts));
    return task;
}

HttpTask *HttpClient::newTask(HttpTask::Kind kind, const QByteArray &method, const QUrl &url)
{
    QJSEngine *engine = qjsEngine(this);
    if (engine && !m_script)
        m_script = TaskScript::create(engine);
    auto *task = new HttpTask(kind, QString::fromLatin1(method), url, engine ? m_script : nullptr);
    m_tasks.append(task);
    task->m_client = this;
    if (engine)
        task->m_self = task->wrap(engine); // JS-owned, and alive while it runs
    else
        task->setParent(this); // a C++ caller: the client owns it
    taskSettled(task);
    return task;
}

void HttpClient::send(
    HttpTask *task, const QByteArray &method, const QUrl &url, RequestOptions opts)
{
    task->start(m_session->send(method, url, std::move(opts), task), this);
}

void HttpClient::taskSettled(HttpTask *)
{
    m_activeRequests = int(std::count_if(
        m_tasks.cbegin(), m_tasks.cend(), [](const HttpTask *t) { return t->isRunning(); }));
}

void HttpClient::taskEnded(HttpTask *task)
{
    if (m_tasks.removeOne(task))
        taskSettled(task);
}

} // namespace Reqivo::Qml
