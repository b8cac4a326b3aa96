// libFuzzer target: the WWW-Authenticate / Proxy-Authenticate parser (src/protocol/httpauth.h)
// on arbitrary field values. Invariants: the bounds hold (maxChallenges, maxParams), every
// scheme and param name is a token, names are lower case and not repeated, a token68 challenge
// has no params; a challenge written back in canonical form parses to itself; answering the
// challenges (Basic and Digest) never fails and gives a value of the credentials' syntax.
// ASan and UBSan catch the memory errors.
#include "protocol/httpauth.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

using namespace Reqivo::Protocol::Auth;

void check(bool ok, const char *what)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz_httpauth: %s\n", what);
        std::abort();
    }
}

bool isToken(const QByteArray &s)
{
    if (s.isEmpty())
        return false;
    for (const char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
        if (!ok)
            return false;
    }
    return true;
}

QByteArray quoted(const QByteArray &v)
{
    QByteArray out = "\"";
    for (const char c : v) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + '"';
}

QByteArray canonical(const Challenge &c)
{
    QByteArray out = c.scheme;
    if (!c.token68.isEmpty())
        return out + ' ' + c.token68;
    for (qsizetype i = 0; i < c.params.size(); ++i)
        out += (i == 0 ? " " : ", ") + c.params[i].first + '=' + quoted(c.params[i].second);
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    QList<Challenge> challenges;
    const bool ok = parseField(input, challenges);
    check(challenges.size() <= maxChallenges, "too many challenges");
    for (const Challenge &c : challenges) {
        check(isToken(c.scheme), "scheme not a token");
        check(c.params.size() <= maxParams, "too many params");
        check(c.token68.isEmpty() || c.params.isEmpty(), "token68 with params");
        for (qsizetype i = 0; i < c.params.size(); ++i) {
            const QByteArray &name = c.params[i].first;
            check(isToken(name) && name == name.toLower(), "param name");
            for (qsizetype j = 0; j < i; ++j)
                check(c.params[j].first != name, "repeated param");
        }
        // Values keep the bytes quoted-strings allow (qdtext and quoted-pair: no CTLs but HTAB);
        // canonical form escapes '"' and '\\', so the challenge reads back as itself.
        QList<Challenge> again;
        const bool againOk = parseField(canonical(c), again);
        check(againOk && again.size() == 1 && again.first() == c, "round trip");
    }
    (void)ok;
    DigestState state;
    const auto answer = answerChallenges(challenges, "GET", "/p?q", QStringLiteral("u\"s\\er"),
                                         QStringLiteral("pw"), &state);
    if (answer) {
        QList<Challenge> parsed;
        check(parseField(*answer, parsed) && parsed.size() == 1, "answer syntax");
    }
    return 0;
}
