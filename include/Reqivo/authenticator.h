// Answering authentication challenges: a 401 from a server, a 407 from a proxy. The session
// answers Digest (RFC 7616) and Basic itself from the credentials it was given; an
// Authenticator hook (a plain function or a coroutine) can answer anything else, such as
// refreshing a token. See docs/resilience.md.
#pragma once

#include <Reqivo/headers.h>
#include <Reqivo/requestoptions.h>
#include <Reqivo/response.h>

#include <QByteArray>
#include <QList>
#include <QUrl>

#include <qcorotask.h>

#include <functional>
#include <optional>

namespace Reqivo {

//! One challenge of a WWW-Authenticate or Proxy-Authenticate field (RFC 9110 §11.2).
struct REQIVO_EXPORT AuthChallenge
{
    QByteArray scheme; //!< As sent ("Digest", "Bearer", ...); compare case-insensitively.
    //! The auth-params, names in lower case, values unquoted; empty for a token68 challenge.
    QList<std::pair<QByteArray, QByteArray>> params;
    QByteArray token68; //!< A token68 challenge's value, if any.

    //! The value of the parameter \a name (lower case), if present.
    std::optional<QByteArray> param(QByteArrayView name) const;
    //! The realm parameter, or empty.
    QByteArray realm() const { return param("realm").value_or(QByteArray()); }
    //! True when the scheme is \a name, ignoring ASCII case.
    bool isScheme(QByteArrayView name) const;

    //! Every challenge of every \a fieldName field (WWW-Authenticate or Proxy-Authenticate)
    //! of \a headers, in order. Malformed challenges are skipped; \a malformed, when given,
    //! says whether any was.
    static QList<AuthChallenge> parse(const Headers &headers, QByteArrayView fieldName,
                                      bool *malformed = nullptr);

    //! Equal when scheme, params and token68 are (the scheme's case counts).
    friend bool operator==(const AuthChallenge &, const AuthChallenge &) = default;
};

//! What an Authenticator is asked.
struct REQIVO_EXPORT AuthRequest
{
    bool proxy = false; //!< A 407 from a proxy rather than a 401 from the server.
    QByteArray method; //!< The request's method.
    QUrl url; //!< The request's URL, without user info.
    QList<AuthChallenge> challenges; //!< Parsed from the response's challenge fields.
    Response response; //!< The 401 or 407 (its body already read, or empty).
};

//! An Authenticator's answer.
struct REQIVO_EXPORT AuthAnswer
{
    //! What the answer is.
    enum class Kind {
        Decline, //!< Return the 401/407 to the caller.
        Credentials, //!< Answer with these credentials (Basic, Bearer, Digest).
        Headers, //!< Send the request again with these fields added (replacing same names).
    };
    Kind kind = Kind::Decline; //!< Which answer this is.
    Reqivo::Credentials credentials; //!< Kind::Credentials: what to answer with.
    Reqivo::Headers headers; //!< Kind::Headers: the fields to set.

    //! Return the 401/407 as it is.
    static AuthAnswer decline() { return {}; }
    //! Send the request again with \a c: Basic or Bearer as given, Digest answering the
    //! response's Digest challenge (Credentials::none() declines).
    static AuthAnswer with(Reqivo::Credentials c) { return {Kind::Credentials, std::move(c), {}}; }
    //! Send the request again with the fields of \a h set (an empty \a h declines).
    static AuthAnswer withHeaders(Reqivo::Headers h) { return {Kind::Headers, {}, std::move(h)}; }
};

//! Called in the session's thread on a 401 (and on a 407 from a proxy): the request is sent
//! again once with the answer, or the 401/407 is returned. The answer is used for that
//! request's origin only, never sent to another (across redirects or retries); a second 401
//! after an answer is returned as it is.
using Authenticator = std::function<QCoro::Task<AuthAnswer>(AuthRequest)>;

} // namespace Reqivo
