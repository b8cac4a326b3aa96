// Redaction of secrets for logs, -v output and error messages (redaction.h,
// docs/observability.md).
#include "redaction_p.h"

#include "asyncsession_p.h"
#include "transport/logcategories_p.h"

#include <Reqivo/asyncsession.h>
#include <Reqivo/redaction.h>
#include <Reqivo/response.h>

namespace Reqivo {

namespace {

bool namesInclude(const QStringList &names, const QString &name)
{
    for (const QString &candidate : names) {
        if (candidate.compare(name, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

// "a=1&token=x&b" with the values of \a names replaced; delimiters stay as they were.
QString redactPairs(const QString &pairs, const QStringList &names, QStringList *secrets)
{
    QStringList items = pairs.split(QLatin1Char('&'));
    for (QString &item : items) {
        const qsizetype equals = item.indexOf(QLatin1Char('='));
        if (equals < 0)
            continue;
        QString name = item.left(equals);
        name.replace(QLatin1Char('+'), QLatin1Char(' '));
        name = QUrl::fromPercentEncoding(name.toUtf8());
        if (!namesInclude(names, name) || equals + 1 == item.size())
            continue;
        if (secrets)
            *secrets << item.mid(equals + 1);
        item = item.left(equals + 1) + QString::fromLatin1(redactedMarker());
    }
    return items.join(QLatin1Char('&'));
}

bool isField(QByteArrayView name, QByteArrayView expected)
{
    return name.size() == expected.size() && name.compare(expected, Qt::CaseInsensitive) == 0;
}

QByteArrayView trimmed(QByteArrayView view)
{
    return view.trimmed();
}

// "name=value" → "name=<redacted>"; a cookie without a name → "<redacted>".
QByteArray redactCookiePair(QByteArrayView pair)
{
    const qsizetype equals = pair.indexOf('=');
    if (equals < 0)
        return redactedMarker();
    return trimmed(pair.first(equals)).toByteArray() + '=' + redactedMarker();
}

} // namespace

QByteArray redactedMarker()
{
    return QByteArrayLiteral("<redacted>");
}

QStringList defaultRedactedQueryNames()
{
    return {QStringLiteral("token"), QStringLiteral("access_token"),
        QStringLiteral("refresh_token"), QStringLiteral("api_key"), QStringLiteral("apikey"),
        QStringLiteral("password"), QStringLiteral("secret"), QStringLiteral("signature"),
        QStringLiteral("sig")};
}

QString redactUrl(const QUrl &url, const QStringList &queryNames)
{
    return Client::redactUrlCollecting(url, queryNames, nullptr);
}

QByteArray redactFieldValue(QByteArrayView name, QByteArrayView value)
{
    return Client::redactFieldValueWith(name, value, defaultRedactedQueryNames());
}

QByteArray Client::redactFieldValueWith(
    QByteArrayView name, QByteArrayView value, const QStringList &queryNames)
{
    if (isField(name, "location") || isField(name, "content-location")) {
        // A redirect's target may carry the same secrets as any request URL.
        const QUrl url = QUrl::fromEncoded(value.trimmed().toByteArray());
        if (!url.isValid() || url.isEmpty())
            return value.toByteArray();
        return redactUrlCollecting(url, queryNames, nullptr).toUtf8();
    }
    if (isField(name, "authorization") || isField(name, "proxy-authorization")) {
        // Keep the scheme ("Basic", "Bearer", "Digest"): it says what was sent, not the secret.
        const QByteArrayView v = trimmed(value);
        const qsizetype space = v.indexOf(' ');
        if (space <= 0)
            return redactedMarker();
        return v.first(space).toByteArray() + ' ' + redactedMarker();
    }
    if (isField(name, "cookie")) {
        QByteArray out;
        qsizetype start = 0;
        while (start <= value.size()) {
            qsizetype end = value.indexOf(';', start);
            if (end < 0)
                end = value.size();
            const QByteArrayView pair = trimmed(value.sliced(start, end - start));
            if (!pair.isEmpty()) {
                if (!out.isEmpty())
                    out += "; ";
                out += redactCookiePair(pair);
            }
            start = end + 1;
        }
        return out;
    }
    if (isField(name, "set-cookie")) {
        // The value only: the attributes (Path, Domain, Expires, Secure...) are no secret.
        const qsizetype semicolon = value.indexOf(';');
        const QByteArrayView pair = semicolon < 0 ? value : value.first(semicolon);
        QByteArray out = redactCookiePair(trimmed(pair));
        if (semicolon >= 0)
            out += value.sliced(semicolon);
        return out;
    }
    return value.toByteArray();
}

Headers redactHeaders(const Headers &headers)
{
    Headers out;
    for (qsizetype i = 0; i < headers.size(); ++i)
        out.add(headers.nameAt(i), redactFieldValue(headers.nameAt(i), headers.valueAt(i)));
    return out;
}

Headers Client::redactHeadersWith(const Headers &headers, const QStringList &queryNames)
{
    Headers out;
    for (qsizetype i = 0; i < headers.size(); ++i)
        out.add(headers.nameAt(i),
            redactFieldValueWith(headers.nameAt(i), headers.valueAt(i), queryNames));
    return out;
}

namespace Client {

QString redactUrlCollecting(const QUrl &url, const QStringList &queryNames, QStringList *secrets)
{
    if (!url.isValid() && url.isEmpty())
        return {};
    if (secrets) {
        if (!url.userName().isEmpty())
            *secrets << url.userName() << url.userName(QUrl::FullyEncoded);
        if (!url.password().isEmpty())
            *secrets << url.password() << url.password(QUrl::FullyEncoded);
    }
    QString text = url.toString(QUrl::RemoveUserInfo | QUrl::RemoveQuery | QUrl::RemoveFragment);
    if (!url.userInfo().isEmpty()) {
        // After "scheme://": the user info is replaced, so the reader knows some was there.
        const qsizetype authority = text.indexOf(QLatin1String("//"));
        if (authority >= 0)
            text.insert(authority + 2, QString::fromLatin1(redactedMarker() + '@'));
    }
    if (url.hasQuery()) {
        QStringList found;
        text += QLatin1Char('?') + redactPairs(url.query(), queryNames, &found);
        if (secrets) {
            // Messages may quote the URL in any of its spellings.
            redactPairs(url.query(QUrl::FullyEncoded), queryNames, &found);
            for (const QString &value : std::as_const(found))
                *secrets << value << QUrl::fromPercentEncoding(value.toUtf8());
        }
    }
    if (url.hasFragment())
        text += QLatin1Char('#') + redactPairs(url.fragment(), queryNames, secrets);
    return text;
}

QString redactText(QString text, const QStringList &secrets)
{
    for (const QString &secret : secrets) {
        // Short values (a "1", an empty user name) would redact ordinary words too.
        if (secret.size() >= 3)
            text.replace(secret, QString::fromLatin1(redactedMarker()));
    }
    return text;
}

QStringList urlSecrets(const QUrl &url, const QStringList &queryNames)
{
    QStringList secrets;
    redactUrlCollecting(url, queryNames, &secrets);
    return secrets;
}

QUrl redactedUrl(const QUrl &url, const QStringList &queryNames)
{
    QUrl clean = url.adjusted(QUrl::RemoveUserInfo);
    if (url.hasQuery())
        clean.setQuery(
            redactPairs(url.query(QUrl::FullyEncoded), queryNames, nullptr), QUrl::TolerantMode);
    if (url.hasFragment())
        clean.setFragment(
            redactPairs(url.fragment(QUrl::FullyEncoded), queryNames, nullptr), QUrl::TolerantMode);
    return clean;
}

Error redactError(const Error &error, const QStringList &queryNames, const QUrl &requestUrl)
{
    if (error.isNull())
        return error;
    const QStringList secrets
        = urlSecrets(requestUrl, queryNames) + urlSecrets(error.url(), queryNames);
    const QUrl url = redactedUrl(error.url(), queryNames);
    if (secrets.isEmpty() && url == error.url())
        return error;
    Error redacted(error.kind(), redactText(error.message(), secrets), url,
        redactText(error.detail(), secrets), error.code());
    redacted.setAttempts(error.attempts());
    return redacted;
}

QCoro::Task<Response> redactingErrors(
    QCoro::Task<Response> task, QStringList queryNames, QUrl requestUrl)
{
    try {
        co_return co_await task;
    } catch (const ReqivoError &e) {
        const Error redacted = redactError(e.error(), queryNames, requestUrl);
        if (redacted == e.error())
            throw;
        redacted.raise();
    }
}

void logRequest(
    const QStringList &queryNames, const QByteArray &method, const QUrl &url, const Headers &fields)
{
    if (!lcHttp().isDebugEnabled())
        return;
    qCDebug(lcHttp).noquote() << "request" << method << redactUrl(url, queryNames);
    for (qsizetype i = 0; i < fields.size(); ++i) {
        qCDebug(lcHttp).noquote() << "  >"
                                  << fields.nameAt(i).toByteArray() + ": "
                + redactFieldValueWith(fields.nameAt(i), fields.valueAt(i), queryNames);
    }
}

void logResponse(const QStringList &queryNames, const QByteArray &method, const QUrl &url,
    const Response &response)
{
    if (!lcHttp().isDebugEnabled())
        return;
    qCDebug(lcHttp).noquote() << "response" << method << redactUrl(url, queryNames) << "->"
                              << response.status() << response.reason()
                              << QStringLiteral("HTTP/") + response.httpVersion();
    const Headers &fields = response.headers();
    for (qsizetype i = 0; i < fields.size(); ++i) {
        qCDebug(lcHttp).noquote() << "  <"
                                  << fields.nameAt(i).toByteArray() + ": "
                + redactFieldValueWith(fields.nameAt(i), fields.valueAt(i), queryNames);
    }
}

} // namespace Client

QStringList AsyncSession::redactedQueryParameters() const
{
    return d->core->redactedQueryNames;
}

void AsyncSession::setRedactedQueryParameters(const QStringList &names)
{
    d->core->redactedQueryNames = names;
}

} // namespace Reqivo
