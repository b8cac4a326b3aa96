// Redaction inside the library: secrets collected from URLs and removed from error messages,
// the reqivo.http log lines of requests and responses (redaction.h, docs/observability.md).
#pragma once

#include <Reqivo/errors.h>
#include <Reqivo/headers.h>

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <QCoro/QCoroTask>

namespace Reqivo {

class Response;

namespace Client {

//! redactUrl(), and the values it replaced (user name, password, query values, each raw and
//! decoded) appended to \a secrets when given.
QString redactUrlCollecting(const QUrl &url, const QStringList &queryNames, QStringList *secrets);
//! The secrets redactUrl() would hide in \a url.
QStringList urlSecrets(const QUrl &url, const QStringList &queryNames);
//! \a text with every occurrence of \a secrets (those of 3 characters or more) replaced.
QString redactText(QString text, const QStringList &secrets);
//! redactFieldValue() with \a queryNames for the URLs of Location and Content-Location.
QByteArray redactFieldValueWith(
    QByteArrayView name, QByteArrayView value, const QStringList &queryNames);
//! redactHeaders() with \a queryNames for the URLs of Location and Content-Location.
Headers redactHeadersWith(const Headers &headers, const QStringList &queryNames);
//! \a url with its user info removed and the values of \a queryNames replaced by <redacted>.
QUrl redactedUrl(const QUrl &url, const QStringList &queryNames);

//! \a error with no secret of \a requestUrl or of its own URL in its URL, message or detail.
Error redactError(const Error &error, const QStringList &queryNames, const QUrl &requestUrl);

//! The request's result, or its error redacted (redactError()) and thrown again, of the same
//! class. Every request of a session goes through it.
QCoro::Task<Response> redactingErrors(
    QCoro::Task<Response> task, QStringList queryNames, QUrl requestUrl);

//! reqivo.http: "GET <url>" at debug with the redacted fields (one line per field).
void logRequest(const QStringList &queryNames, const QByteArray &method, const QUrl &url,
    const Headers &fields);
//! reqivo.http: "GET <url> -> 200 OK (HTTP/1.1)" at debug with the redacted response fields.
void logResponse(const QStringList &queryNames, const QByteArray &method, const QUrl &url,
    const Response &response);

} // namespace Client

} // namespace Reqivo
