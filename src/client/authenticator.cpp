// AuthChallenge (authenticator.h): the public face of the challenge parser.
#include <Reqivo/authenticator.h>

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

} // namespace Reqivo
