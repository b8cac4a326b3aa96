// The auth step (authstep_p.h) and the session's Digest and Authenticator setters.
#include "authstep_p.h"

#include "asyncsession_p.h"
#include "exchange_p.h"
#include "prepare_p.h"
#include "proxyroute_p.h"
#include "redirectpolicy.h"

#include <Reqivo/errors.h>

namespace Reqivo {

namespace {

bool hasControl(const QString &s)
{
    for (const QChar c : s) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            return true;
    }
    return false;
}

} // namespace

void Client::checkDigestCredentials(const QString &user, const QString &password)
{
    if (hasControl(user) || hasControl(password))
        throw RequestError(
            QStringLiteral("Digest auth credentials cannot contain control characters"));
}

void AsyncSession::setDigestAuth(const QString &user, const QString &password)
{
    SessionCore &c = *d->core;
    c.setAuthorization([&] {
        Client::checkDigestCredentials(user, password);
        return QByteArray();
    });
    c.digest = Credentials::digest(user, password);
}

void AsyncSession::setAuthenticatorImpl(Authenticator authenticator)
{
    d->core->authenticator = std::move(authenticator);
}

namespace Client {

namespace {

QUrl withoutUserInfo(QUrl url)
{
    url.setUserInfo(QString());
    return url;
}

// The Authorization value of an Authenticator's credentials for \a challenges; nullopt when
// they answer nothing (None, or Digest without an answerable Digest challenge).
std::optional<QByteArray> credentialsAnswer(const Credentials &c,
    const QList<Protocol::Auth::Challenge> &challenges, const QByteArray &method,
    const QByteArray &uri, Protocol::Auth::DigestState *state, const QUrl &url)
{
    try {
        switch (c.scheme) {
        case Credentials::Scheme::None:
            return std::nullopt;
        case Credentials::Scheme::Basic:
            return basicAuthorization(c.user, c.password);
        case Credentials::Scheme::Bearer:
            return bearerAuthorization(c.token);
        case Credentials::Scheme::Digest:
            checkDigestCredentials(c.user, c.password);
            return Protocol::Auth::answerChallenges(
                challenges, method, uri, c.user, c.password, state, Protocol::Auth::Digest);
        }
    } catch (const RequestError &e) {
        throw RequestError(
            QStringLiteral("the Authenticator's answer: ") + e.message(), withoutUserInfo(url));
    }
    return std::nullopt;
}

} // namespace

AuthContext makeAuthContext(const std::optional<Credentials> &requestCredentials,
    const std::optional<Credentials> &sessionDigest, const Authenticator &authenticator,
    const QUrl &origin)
{
    AuthContext ctx;
    ctx.digestOrigin = origin;
    if (requestCredentials) {
        if (requestCredentials->scheme == Credentials::Scheme::Digest)
            ctx.digest = requestCredentials; // checked by the prepare stage
        // withoutAuth(): no Authorization at all, the hook's included.
        if (requestCredentials->scheme != Credentials::Scheme::None)
            ctx.authenticator = authenticator;
    } else {
        ctx.digest = sessionDigest;
        ctx.authenticator = authenticator;
    }
    return ctx;
}

void prepareReplay(SessionCore &core, QByteArray &jarCookie, Headers &fields, const QUrl &url,
    const Response &challenged)
{
    if (core.keepCookies)
        core.jar->storeFromResponse(url, challenged.headers());
    if (!jarCookie.isEmpty() && fields.value("cookie") == jarCookie) {
        fields.remove("cookie");
        jarCookie.clear();
    }
    if (!fields.contains("cookie")) {
        jarCookie = core.jar->cookieHeaderFor(url);
        if (!jarCookie.isEmpty())
            fields.add("Cookie", jarCookie);
    }
}

QNetworkProxy absoluteFormProxy(
    SessionCore &core, const QUrl &url, std::optional<HttpVersion> version)
{
    const Endpoint &endpoint = core.originFor(url, core.versionFor(url, version)).endpoint;
    return endpoint.usesAbsoluteForm() ? endpoint.proxy : QNetworkProxy(QNetworkProxy::NoProxy);
}

QCoro::Task<Response> authenticate(AuthContext *ctx, QByteArray method, QUrl url, Headers fields,
    bool replayable, QNetworkProxy proxy, Response response, ResendHop resend)
{
    using namespace Protocol::Auth;
    const bool viaProxy = proxy.type() == QNetworkProxy::HttpProxy;
    // Digest's uri is the request-target as sent: absolute-form through an HTTP proxy.
    const QByteArray uri = viaProxy ? absoluteTarget(url) : requestTarget(url);
    // Per protection space (0: the server, 1: the proxy): answered once; the Digest credentials
    // of that answer, if it was Digest (a stale nonce is answered once more with them).
    bool answered[2] = {false, false};
    bool staleAnswered[2] = {false, false};
    std::optional<Credentials> digestUsed[2];

    for (;;) {
        const int status = response.status();
        const bool isProxy = status == 407;
        if ((status != 401 && !(isProxy && viaProxy)) || !replayable)
            co_return response;
        const int k = isProxy ? 1 : 0;
        const QList<Challenge> challenges = parseChallenges(
            response.headers(), isProxy ? "Proxy-Authenticate" : "WWW-Authenticate");
        DigestState &state = isProxy ? ctx->proxyDigest : ctx->serverDigest;
        std::optional<QByteArray> value;
        Headers extra;

        if (answered[k]) {
            // A second challenge: returned, unless a Digest answer's nonce had expired.
            if (!digestUsed[k] || staleAnswered[k] || !isStale(challenges))
                co_return response;
            staleAnswered[k] = true;
            value = answerChallenges(challenges, method, uri, digestUsed[k]->user,
                digestUsed[k]->password, &state, Digest);
            if (!value)
                co_return response;
        } else {
            answered[k] = true;
            if (isProxy && !proxy.user().isEmpty()) {
                value = answerChallenges(challenges, method, uri, proxy.user(), proxy.password(),
                    &state, Basic | Digest);
                if (value && value->startsWith("Digest "))
                    digestUsed[k] = Credentials::digest(proxy.user(), proxy.password());
            } else if (!isProxy && ctx->digest && isSameOrigin(url, ctx->digestOrigin)) {
                value = answerChallenges(challenges, method, uri, ctx->digest->user,
                    ctx->digest->password, &state, Digest);
                if (value)
                    digestUsed[k] = ctx->digest;
            }
            if (!value) {
                if (!ctx->authenticator)
                    co_return response;
                AuthRequest request;
                request.proxy = isProxy;
                request.method = method;
                request.url = withoutUserInfo(url);
                request.challenges.reserve(challenges.size());
                for (const Challenge &c : challenges)
                    request.challenges.append({c.scheme, c.params, c.token68});
                request.response = response;
                if (request.response.isStreaming())
                    request.response.setBodyStream(nullptr); // the body is not read for it
                // The hook is copied: the session may replace it while it runs.
                const Authenticator hook = ctx->authenticator;
                const AuthAnswer answer = co_await hook(std::move(request));
                switch (answer.kind) {
                case AuthAnswer::Kind::Decline:
                    co_return response;
                case AuthAnswer::Kind::Credentials:
                    value = credentialsAnswer(
                        answer.credentials, challenges, method, uri, &state, url);
                    if (!value)
                        co_return response;
                    if (answer.credentials.scheme == Credentials::Scheme::Digest)
                        digestUsed[k] = answer.credentials;
                    break;
                case AuthAnswer::Kind::Headers:
                    extra = answer.headers;
                    if (extra.isEmpty())
                        co_return response;
                    if (!isProxy && extra.contains("proxy-authorization"))
                        throw RequestError(QStringLiteral("the Authenticator's answer to a 401 "
                                                          "cannot set Proxy-Authorization"),
                            withoutUserInfo(url));
                    break;
                }
            }
        }

        // The challenge's body is not wanted: a streamed one is drained for the connection's sake.
        if (const std::shared_ptr<BodyStream> stream = response.bodyStream())
            co_await drainRedirectBody(stream);
        if (value)
            fields.set(isProxy ? "Proxy-Authorization" : "Authorization", *value);
        for (const Headers::Field f : extra)
            fields.remove(f.name);
        fields.append(extra);
        response = co_await resend(fields, response);
    }
}

QCoro::Task<std::optional<Credentials>> askForTunnelCredentials(Authenticator authenticator,
    QByteArray method, QUrl url, Error error)
{
    Headers fields;
    const QStringList lines = error.detail().split(QLatin1Char('\n'));
    const QLatin1StringView prefix("Proxy-Authenticate: ");
    for (qsizetype i = 1; i < lines.size(); ++i) {
        if (lines[i].startsWith(prefix))
            fields.add("Proxy-Authenticate", lines[i].mid(prefix.size()).toLatin1());
    }
    AuthRequest request;
    request.proxy = true;
    request.method = method;
    request.url = withoutUserInfo(url);
    request.challenges = AuthChallenge::parse(fields, "proxy-authenticate");
    request.response.setStatus(407, QByteArrayLiteral("Proxy Authentication Required"));
    request.response.setHeaders(fields);
    request.response.setMethod(method);
    request.response.setUrl(request.url);
    const AuthAnswer answer = co_await authenticator(std::move(request));
    if (answer.kind != AuthAnswer::Kind::Credentials
        || (answer.credentials.scheme != Credentials::Scheme::Basic
            && answer.credentials.scheme != Credentials::Scheme::Digest)
        || answer.credentials.user.isEmpty())
        co_return std::nullopt;
    co_return answer.credentials;
}

} // namespace Client

} // namespace Reqivo
