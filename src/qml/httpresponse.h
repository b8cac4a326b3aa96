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
#include <QVariantMap>
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
    //! "set-cookie", which is always an array.
    Q_PROPERTY(QVariantMap headers READ headers CONSTANT)
    //! The body decoded with the Content-Type's charset (UTF-8 by default).
    Q_PROPERTY(QString text READ text CONSTANT)
    //! The body parsed as JSON (an object or an array), or undefined when it is not JSON.
    Q_PROPERTY(QJSValue json READ json CONSTANT)
    //! The raw body (decompressed, de-chunked) as an ArrayBuffer.
    Q_PROPERTY(QByteArray body READ body CONSTANT)
    //! The final URL, after redirects.
    Q_PROPERTY(QUrl url READ url CONSTANT)
    Q_PROPERTY(QString httpVersion READ httpVersion CONSTANT)
    //! Milliseconds from sending the request to the end of the response.
    Q_PROPERTY(int elapsed READ elapsed CONSTANT)
    //! True when redirects led to this response.
    Q_PROPERTY(bool redirected READ redirected CONSTANT)

public:
    explicit HttpResponse(Response response, QObject *parent = nullptr);
    ~HttpResponse() override;

    int status() const;
    bool ok() const;
    QString reason() const;
    QVariantMap headers() const;
    QString text() const;
    QJSValue json() const;
    QByteArray body() const;
    QUrl url() const;
    QString httpVersion() const;
    int elapsed() const;
    bool redirected() const;

    //! The value of one header, looked up case-insensitively: a string (repeated fields joined
    //! with ", "), an array for Set-Cookie, or undefined when absent.
    Q_INVOKABLE QJSValue header(const QString &name) const;

    const Response &response() const { return m_response; }

private:
    Response m_response;
    mutable std::optional<QVariantMap> m_headers;
    mutable std::optional<QString> m_text;
    mutable std::optional<QJSValue> m_json;
};

} // namespace Reqivo::Qml
