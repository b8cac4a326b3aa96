// HttpResponse: what an HttpTask's success callback receives, a read-only QML face on one
// Reqivo::Response.
//
// It is a QObject rather than a plain JS object so that the costly views (text, json, headers)
// are computed only when read, once, and then cached: `r.json === r.json`. Every HTTP status
// lands here, 4xx and 5xx included (ok is false for them); only failures to get a response at
// all go to the error callback.
#pragma once

#include <Reqivo/response.h>

#include <QJSValue>
#include <QObject>
#include <QUrl>
#include <QtQml/qqmlregistration.h>

#include <optional>

namespace Reqivo::Qml {

class HttpResponse : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("HttpResponse objects are delivered by HttpTask.then()")

    Q_PROPERTY(int status READ status CONSTANT)
    //! True for 2xx.
    Q_PROPERTY(bool ok READ ok CONSTANT)
    Q_PROPERTY(QString reason READ reason CONSTANT)
    //! {name: value}, names lower-cased; repeated fields joined with ", ", except
    //! "set-cookie", which is always a JS array of strings. The same object on every read.
    Q_PROPERTY(QJSValue headers READ headers CONSTANT)
    //! The body decoded with the Content-Type's charset (UTF-8 by default).
    Q_PROPERTY(QString text READ text CONSTANT)
    //! The body parsed as JSON (an object or an array), or undefined when it is not JSON.
    Q_PROPERTY(QJSValue json READ json CONSTANT)
    //! The raw body (decompressed, de-chunked) as an ArrayBuffer; an empty one when there is no
    //! body (HEAD, 204, 304, a download saved to a file).
    Q_PROPERTY(QJSValue body READ body CONSTANT)
    //! The final URL, after redirects.
    Q_PROPERTY(QUrl url READ url CONSTANT)
    Q_PROPERTY(QString httpVersion READ httpVersion CONSTANT)
    //! Milliseconds from sending the request to the end of the response.
    Q_PROPERTY(int elapsed READ elapsed CONSTANT)
    //! True when redirects led to this response.
    Q_PROPERTY(bool redirected READ redirected CONSTANT)
    //! The redirect responses that led here, oldest first: a JS array of HttpResponse, each
    //! with its status, headers and url (and no body). Empty when there was no redirect.
    Q_PROPERTY(QJSValue history READ history CONSTANT)
    //! How many times the final hop was tried under the retry policy: 1 when nothing was
    //! retried.
    Q_PROPERTY(int attempts READ attempts CONSTANT)
    //! The final attempt's phases in cumulative milliseconds from its start (fractions kept),
    //! as curl reports them: {dnsMs, connectMs, tlsMs, ttfbMs, totalMs, queueMs,
    //! proxyTunnelMs, requestSentMs, reused}; 0 for a phase that did not happen (the
    //! connection phases on a reused connection). The same object on every read.
    Q_PROPERTY(QJSValue timings READ timings CONSTANT)
    //! HttpClient.download(): the file the body was saved to (a 2xx status); else empty.
    Q_PROPERTY(QString filePath READ filePath CONSTANT)

public:
    explicit HttpResponse(Response response, QString filePath = {}, QObject *parent = nullptr);
    ~HttpResponse() override;

    int status() const;
    bool ok() const;
    QString reason() const;
    QJSValue headers() const;
    QString text() const;
    QJSValue json() const;
    QJSValue body() const;
    QUrl url() const;
    QString httpVersion() const;
    int elapsed() const;
    bool redirected() const;
    QJSValue history() const;
    int attempts() const;
    QJSValue timings() const;
    QString filePath() const { return m_filePath; }

    //! The value of one header, looked up case-insensitively: a string (repeated fields joined
    //! with ", "), an array for Set-Cookie, or undefined when absent.
    Q_INVOKABLE QJSValue header(const QString &name) const;

    const Response &response() const { return m_response; }

private:
    Response m_response;
    QString m_filePath;
    // Built on first read (they need the engine), then the same JS value on every read.
    mutable QJSValue m_headers;
    mutable QJSValue m_history;
    mutable QJSValue m_timings;
    mutable std::optional<QString> m_text;
    mutable std::optional<QJSValue> m_json;
};

} // namespace Reqivo::Qml
