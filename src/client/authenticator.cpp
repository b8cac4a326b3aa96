// AuthChallenge (authenticator.h): the public face of the challenge parser in
// src/protocol/httpauth.cpp.
#include <Reqivo/authenticator.h>

#include "protocol/httpauth.h"

namespace Reqivo {

std::optional<QByteArray> AuthChallenge::param(QByteArrayView name) const
{
    for (const auto &[key, value] : params) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return std::nullopt;
}

bool AuthChallenge::isScheme(QByteArrayView name) const
{
    return scheme.compare(name, Qt::CaseInsensitive) == 0;
}

QList<AuthChallenge> AuthChallenge::parse(
    const Headers &headers, QByteArrayView fieldName, bool *malformed)
{
    const QList<Protocol::Auth::Challenge> parsed
        = Protocol::Auth::parseChallenges(headers, fieldName, malformed);
    QList<AuthChallenge> out;
    out.reserve(parsed.size());
    for (const Protocol::Auth::Challenge &c : parsed)
        out.append({c.scheme, c.params, c.token68});
    return out;
}

} // namespace Reqivo
