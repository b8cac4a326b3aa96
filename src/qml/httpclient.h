// HttpClient: the QML face of Reqivo::AsyncSession.
//
//   import Reqivo
//   HttpClient {
//       id: api
//       baseUrl: "https://api.example.com"
//       bearerToken: settings.token
//   }
//   api.get("/users/1").then(r => console.log(r.status, r.json.name),
//                            e => console.log(e.type, e.message))
//
// Properties map one to one onto the session it owns; each verb starts a request through
// AsyncSession::send() and returns an HttpTask (promise-like, see httptask.h). There is no
// HTTP logic here: URLs, headers, auth, redirects and timeouts are the session's business.
// HTTP error statuses are responses (ok == false), never rejections. Destroying the client
// cancels its requests without calling their callbacks.
#pragma once

#include <QJSValue>
#include <QList>
#include <QObject>
#include <QProperty>
#include <QUrl>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

namespace Reqivo {
class AsyncSession;
struct RequestOptions;
} // namespace Reqivo

namespace Reqivo::Qml {

class HttpTask;

class HttpClient : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_MOC_INCLUDE("httptask.h")

    //! Relative request URLs are resolved against it.
    Q_PROPERTY(QUrl baseUrl READ baseUrl WRITE setBaseUrl NOTIFY baseUrlChanged)
    //! Sent with every request: {name: value}; a per-request header of the same name wins.
    Q_PROPERTY(QVariantMap headers READ headers WRITE setHeaders NOTIFY headersChanged)
    //! "Authorization: Bearer <token>" on every request; empty: none.
    Q_PROPERTY(QString bearerToken READ bearerToken WRITE setBearerToken NOTIFY bearerTokenChanged)
    //! Milliseconds allowed for connecting and for each wait on a read or a write (not the
    //! whole request). 0: no limit. Default 5000.
    Q_PROPERTY(int timeout READ timeout WRITE setTimeout NOTIFY timeoutChanged)
    Q_PROPERTY(bool followRedirects READ followRedirects WRITE setFollowRedirects NOTIFY
            followRedirectsChanged)
    Q_PROPERTY(int maxRedirects READ maxRedirects WRITE setMaxRedirects NOTIFY maxRedirectsChanged)
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
    int timeout() const;
    void setTimeout(int milliseconds);
    bool followRedirects() const;
    void setFollowRedirects(bool follow);
    int maxRedirects() const;
    void setMaxRedirects(int max);

    bool isLoading() const { return m_loading; }
    QBindable<bool> bindableLoading() { return &m_loading; }
    int activeRequests() const { return m_activeRequests; }
    QBindable<int> bindableActiveRequests() { return &m_activeRequests; }

    //! The verbs. \a options: {headers: {...}, query: {...}, timeout: ms, followRedirects: bool}.
    //! \a body: a string (text/plain), an ArrayBuffer or typed array (bytes), or any other value
    //! sent as JSON. Bad arguments throw a TypeError at once.
    Q_INVOKABLE Reqivo::Qml::HttpTask *get(const QUrl &url, const QJSValue &options = QJSValue());
    Q_INVOKABLE Reqivo::Qml::HttpTask *head(const QUrl &url, const QJSValue &options = QJSValue());
    Q_INVOKABLE Reqivo::Qml::HttpTask *del(const QUrl &url, const QJSValue &options = QJSValue());
    Q_INVOKABLE Reqivo::Qml::HttpTask *post(
        const QUrl &url, const QJSValue &body = QJSValue(), const QJSValue &options = QJSValue());
    Q_INVOKABLE Reqivo::Qml::HttpTask *put(
        const QUrl &url, const QJSValue &body = QJSValue(), const QJSValue &options = QJSValue());
    Q_INVOKABLE Reqivo::Qml::HttpTask *patch(
        const QUrl &url, const QJSValue &body = QJSValue(), const QJSValue &options = QJSValue());
    //! Any method; the body, if any, is options.body.
    Q_INVOKABLE Reqivo::Qml::HttpTask *request(
        const QString &method, const QUrl &url, const QJSValue &options = QJSValue());
    //! Aborts every running request (each is rejected with a RequestError).
    Q_INVOKABLE void abortAll();

    //! The session behind the client, for C++ code that sets what QML does not expose (TLS,
    //! proxy, cookies, hooks).
    AsyncSession *session() const { return m_session; }

Q_SIGNALS:
    void baseUrlChanged();
    void headersChanged();
    void bearerTokenChanged();
    void timeoutChanged();
    void followRedirectsChanged();
    void maxRedirectsChanged();
    void loadingChanged();
    void activeRequestsChanged();

private:
    friend class HttpTask;
    HttpTask *start(const QByteArray &method, const QUrl &url, const QJSValue *body,
        const QJSValue &options, bool bodyInOptions);
    void taskEnded(HttpTask *task);

    AsyncSession *m_session;
    QVariantMap m_headers;
    QString m_bearerToken;
    QList<HttpTask *> m_tasks; //!< running ones; each removes itself when it settles or dies

    Q_OBJECT_BINDABLE_PROPERTY_WITH_ARGS(
        HttpClient, int, m_activeRequests, 0, &HttpClient::activeRequestsChanged)
    Q_OBJECT_BINDABLE_PROPERTY(HttpClient, bool, m_loading, &HttpClient::loadingChanged)
};

} // namespace Reqivo::Qml
