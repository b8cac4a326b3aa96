// HttpClient: the QML face of Reqivo::AsyncSession.
//
//   import Reqivo
//   HttpClient {
//       id: api
//       baseUrl: "https://api.example.com"
//       bearerToken: settings.token
//   }
//   api.get("/users/1").then(r => console.log(r.status, r.json.name))
//                      .catch(e => console.log(e.type, e.message))
//
// Properties map one to one onto the session it owns; each verb starts a request through
// AsyncSession::send() and returns an HttpTask (a promise, see httptask.h). There is no
// HTTP logic here: URLs, headers, auth, redirects and timeouts are the session's business.
// HTTP error statuses are responses (ok == false), never rejections. Destroying the client
// cancels its requests without calling their callbacks.
//
// The AsyncSession is the client's one direct child of that type, made with it and living as
// long as it: C++ code that holds the client as a QObject reaches it with
// `client->findChild<Reqivo::AsyncSession *>(QString(), Qt::FindDirectChildrenOnly)`, with no
// header of this module (docs/qml.md, "From C++").
#pragma once

#include "httptask.h"
#include "jsconvert_p.h"
#include "qmlformdata.h"

#include <QJSValue>
#include <QList>
#include <QObject>
#include <QProperty>
#include <QUrl>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

#include <memory>

namespace Reqivo {
class AsyncSession;
struct RequestOptions;
} // namespace Reqivo

namespace Reqivo::Qml {

struct TaskScript;

class HttpClient : public QObject
{
    Q_OBJECT
    QML_ELEMENT

    //! Relative request URLs are resolved against it.
    Q_PROPERTY(QUrl baseUrl READ baseUrl WRITE setBaseUrl NOTIFY baseUrlChanged)
    //! Sent with every request: {name: value}; a per-request header of the same name wins.
    Q_PROPERTY(QVariantMap headers READ headers WRITE setHeaders NOTIFY headersChanged)
    //! "Authorization: Bearer <token>" on every request; empty: none. Wins over user/password.
    Q_PROPERTY(QString bearerToken READ bearerToken WRITE setBearerToken NOTIFY bearerTokenChanged)
    //! Basic auth on every request (to the request's origin only, never to another origin a
    //! redirect leads to) when either is set and bearerToken is empty.
    Q_PROPERTY(QString user READ user WRITE setUser NOTIFY userChanged)
    Q_PROPERTY(QString password READ password WRITE setPassword NOTIFY passwordChanged)
    //! How user/password are sent: "basic" (the default: with every request) or "digest"
    //! (HTTP Digest, RFC 7616, answered only when the server challenges). Anything else is
    //! refused with a warning and leaves the value as it was.
    Q_PROPERTY(QString authScheme READ authScheme WRITE setAuthScheme NOTIFY authSchemeChanged)
    //! The retry policy of every request (options.retry overrides it): {attempts, baseDelay,
    //! factor, maxDelay, jitter, retryAfterMax, maxRetryTime, statuses, retryNonIdempotent,
    //! budget}, times in ms; keys not given keep the defaults (docs/resilience.md). Empty (the
    //! default): no retries. A bad value is refused with a warning and changes nothing.
    Q_PROPERTY(QVariantMap retry READ retry WRITE setRetry NOTIFY retryChanged)
    //! Certificate pins: {hostPattern: "sha256//B64[;sha256//B64...]" or an array of such
    //! strings}, hostPattern as in Reqivo::CertificatePin ("example.com", "*.example.com",
    //! "**.example.com"). A TLS connection to a matching host is accepted only when a
    //! certificate of the presented chain has one of the pins. A malformed pin is refused with
    //! a warning and changes nothing.
    Q_PROPERTY(QVariantMap pinnedPublicKeys READ pinnedPublicKeys WRITE setPinnedPublicKeys NOTIFY
            pinnedPublicKeysChanged)
    //! Proxies from the environment as curl reads them (http_proxy, HTTPS_PROXY/https_proxy,
    //! ALL_PROXY/all_proxy, NO_PROXY/no_proxy): true by default; read when the client is made
    //! and again when this turns true.
    Q_PROPERTY(bool proxyFromEnvironment READ proxyFromEnvironment WRITE setProxyFromEnvironment
            NOTIFY proxyFromEnvironmentChanged)
    //! The system's proxy configuration (PAC through libproxy on Linux) instead: false by
    //! default.
    Q_PROPERTY(bool useSystemProxy READ useSystemProxy WRITE setUseSystemProxy NOTIFY
            useSystemProxyChanged)
    //! Hosts that never go through a proxy, curl's no_proxy items ("*", host names, domain
    //! suffixes, IP addresses, CIDR ranges); empty: the environment's no_proxy applies.
    Q_PROPERTY(QStringList noProxy READ noProxy WRITE setNoProxy NOTIFY noProxyChanged)
    //! Milliseconds allowed for connecting and for each wait on a read or a write (not the
    //! whole request). 0: no limit. Default 5000.
    Q_PROPERTY(int timeout READ timeout WRITE setTimeout NOTIFY timeoutChanged)
    Q_PROPERTY(bool followRedirects READ followRedirects WRITE setFollowRedirects NOTIFY
            followRedirectsChanged)
    Q_PROPERTY(int maxRedirects READ maxRedirects WRITE setMaxRedirects NOTIFY maxRedirectsChanged)
    //! The HTTP version policy: "2" (the default: HTTP/2 when an HTTPS server offers it),
    //! "1.1" (HTTP/1.1 only) or "2-prior-knowledge" (http:// URLs speak HTTP/2 at once).
    //! Anything else is refused with a warning and leaves the value as it was.
    Q_PROPERTY(QString httpVersion READ httpVersion WRITE setHttpVersion NOTIFY httpVersionChanged)
    //! A Netscape cookies.txt file (a path or a file: URL) the client's cookies persist in, as
    //! curl -c writes it: setting it loads the file into the jar (a file that does not exist is
    //! an empty jar) and saves the jar back to it when cookies change (coalesced, a second after
    //! the first change) and when the client is destroyed; session cookies are not saved. A file
    //! that cannot be read is not loaded and never overwritten (cookieFileError says why). Empty
    //! (the default): cookies live as long as the client.
    Q_PROPERTY(QString cookieFile READ cookieFile WRITE setCookieFile NOTIFY cookieFileChanged)
    //! Why cookieFile could not be loaded or saved ("file:line: what"); empty when it could.
    Q_PROPERTY(QString cookieFileError READ cookieFileError NOTIFY cookieFileErrorChanged)
    //! True while at least one request of this client runs.
    Q_PROPERTY(bool loading READ isLoading NOTIFY loadingChanged BINDABLE bindableLoading)
    Q_PROPERTY(int activeRequests READ activeRequests NOTIFY activeRequestsChanged BINDABLE
            bindableActiveRequests)

public:
    explicit HttpClient(QObject *parent = nullptr);
    ~HttpClient() override;

    QUrl baseUrl() const;
    void setBaseUrl(const QUrl &url);
    QVariantMap headers() const { return m_headers; }
    void setHeaders(const QVariantMap &headers);
    QString bearerToken() const { return m_bearerToken; }
    void setBearerToken(const QString &token);
    QString user() const { return m_user; }
    void setUser(const QString &user);
    QString password() const { return m_password; }
    void setPassword(const QString &password);
    QString authScheme() const
    {
        return m_digest ? QStringLiteral("digest") : QStringLiteral("basic");
    }
    void setAuthScheme(const QString &scheme);
    QVariantMap retry() const { return m_retry; }
    void setRetry(const QVariantMap &retry);
    QVariantMap pinnedPublicKeys() const { return m_pins; }
    void setPinnedPublicKeys(const QVariantMap &pins);
    bool proxyFromEnvironment() const;
    void setProxyFromEnvironment(bool on);
    bool useSystemProxy() const;
    void setUseSystemProxy(bool on);
    QStringList noProxy() const;
    void setNoProxy(const QStringList &hosts);
    int timeout() const;
    void setTimeout(int milliseconds);
    bool followRedirects() const;
    void setFollowRedirects(bool follow);
    int maxRedirects() const;
    void setMaxRedirects(int max);
    QString httpVersion() const;
    void setHttpVersion(const QString &version);
    QString cookieFile() const { return m_cookieFile; }
    void setCookieFile(const QString &file);
    QString cookieFileError() const { return m_cookieFileError; }

    bool isLoading() const { return m_loading; }
    QBindable<bool> bindableLoading() { return &m_loading; }
    int activeRequests() const { return m_activeRequests; }
    QBindable<int> bindableActiveRequests() { return &m_activeRequests; }

    //! The verbs. \a options: {headers: {...}, query: {...}, timeout: ms, followRedirects: bool,
    //! retry: n or {...} (as the retry property; null: no retries)}.
    //! \a body: a string (text/plain), an ArrayBuffer or typed array (bytes), or any other value
    //! sent as JSON. Bad arguments throw a TypeError at once.
    Q_INVOKABLE Reqivo::Qml::HttpTask *get(const QUrl &url, const QJSValue &options = QJSValue());
    Q_INVOKABLE Reqivo::Qml::HttpTask *head(const QUrl &url, const QJSValue &options = QJSValue());
    //! DELETE (`delete` is a JS keyword).
    Q_INVOKABLE Reqivo::Qml::HttpTask *deleteResource(
        const QUrl &url, const QJSValue &options = QJSValue());
    Q_INVOKABLE Reqivo::Qml::HttpTask *post(
        const QUrl &url, const QJSValue &body = QJSValue(), const QJSValue &options = QJSValue());
    Q_INVOKABLE Reqivo::Qml::HttpTask *put(
        const QUrl &url, const QJSValue &body = QJSValue(), const QJSValue &options = QJSValue());
    Q_INVOKABLE Reqivo::Qml::HttpTask *patch(
        const QUrl &url, const QJSValue &body = QJSValue(), const QJSValue &options = QJSValue());
    //! Any method; the body, if any, is options.body.
    Q_INVOKABLE Reqivo::Qml::HttpTask *request(
        const QString &method, const QUrl &url, const QJSValue &options = QJSValue());
    //! GET \a url and stream a 2xx body into \a filePath (a path or a file: URL), which is
    //! replaced only once the whole body is in (QSaveFile); on a failure or another status it
    //! is left as it was. The response's filePath tells where the body went.
    Q_INVOKABLE Reqivo::Qml::HttpTask *download(
        const QUrl &url, const QString &filePath, const QJSValue &options = QJSValue());
    //! Send the file \a filePath (a path or a file: URL) as the body, streamed from disk, with
    //! options.method (default "PUT"); progress follows the upload.
    Q_INVOKABLE Reqivo::Qml::HttpTask *upload(
        const QUrl &url, const QString &filePath, const QJSValue &options = QJSValue());
    //! A new, empty FormData (multipart/form-data) owned by JavaScript: append() fields and
    //! appendFile() files, then pass it as the body of post(), put() or patch().
    Q_INVOKABLE Reqivo::Qml::QmlFormData *formData();
    //! Aborts every running request (each is rejected with a RequestError).
    Q_INVOKABLE void abortAll();

    //! The session behind the client, for C++ code that sets what QML does not expose (TLS,
    //! proxy, cookies, hooks). Code outside this module uses findChild (see above).
    AsyncSession *session() const { return m_session; }

Q_SIGNALS:
    void baseUrlChanged();
    void headersChanged();
    void bearerTokenChanged();
    void userChanged();
    void passwordChanged();
    void authSchemeChanged();
    void retryChanged();
    void pinnedPublicKeysChanged();
    void proxyFromEnvironmentChanged();
    void useSystemProxyChanged();
    void noProxyChanged();
    void timeoutChanged();
    void followRedirectsChanged();
    void maxRedirectsChanged();
    void httpVersionChanged();
    void cookieFileChanged();
    void cookieFileErrorChanged();
    void loadingChanged();
    void activeRequestsChanged();

private:
    friend class HttpTask;
    //! A request with its options parsed; nullptr after throwing a TypeError (bad arguments).
    HttpTask *start(const QString &caller, QByteArray method, const QUrl &url, const QJSValue *body,
        const QJSValue &options, ExtraOptions extra);
    bool parseOptions(const QString &caller, const QJSValue &options, ExtraOptions extra,
        const QJSValue *body, RequestOptions *opts, QString *method);
    //! Throws a TypeError "HttpClient.<caller>: <problem>"; returns nullptr.
    HttpTask *refuse(const QString &caller, const QString &problem);
    HttpTask *newTask(HttpTask::Kind kind, const QByteArray &method, const QUrl &url);
    void send(HttpTask *task, const QByteArray &method, const QUrl &url, RequestOptions opts);
    void applyAuth();
    void setCookieFileError(const QString &error);
    //! Bookkeeping for HttpTask: a task settled (activeRequests), or is done with the client.
    void taskSettled(HttpTask *task);
    void taskEnded(HttpTask *task);

    AsyncSession *m_session;
    QVariantMap m_headers;
    QString m_bearerToken;
    QString m_user;
    QString m_password;
    bool m_digest = false;
    QVariantMap m_retry;
    QVariantMap m_pins;
    QString m_cookieFile;
    QString m_cookieFileError;
    std::shared_ptr<const TaskScript> m_script; //!< made with the first task from QML
    //! Request tasks from start until their outcome was delivered; each removes itself.
    QList<HttpTask *> m_tasks;

    Q_OBJECT_BINDABLE_PROPERTY_WITH_ARGS(
        HttpClient, int, m_activeRequests, 0, &HttpClient::activeRequestsChanged)
    Q_OBJECT_BINDABLE_PROPERTY(HttpClient, bool, m_loading, &HttpClient::loadingChanged)
};

} // namespace Reqivo::Qml
