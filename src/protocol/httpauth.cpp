// HTTP authentication, sans-I/O: challenge parser, Basic value, Digest answer (httpauth.h).
#include "httpauth.h"

#include "charclass_p.h"

#include <QCryptographicHash>
#include <QRandomGenerator>

#include <utility>

namespace Reqivo::Protocol::Auth {

std::optional<QByteArray> Challenge::param(QByteArrayView name) const
{
    for (const auto &[key, value] : params) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return std::nullopt;
}

bool Challenge::isScheme(QByteArrayView name) const
{
    return scheme.compare(name, Qt::CaseInsensitive) == 0;
}

namespace {

bool isOws(char c)
{
    return c == ' ' || c == '\t';
}

bool isToken68Char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
        || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

// qdtext (RFC 9110 §5.6.4): HTAB, SP, 0x21, 0x23-0x5B, 0x5D-0x7E, obs-text.
bool isQdText(char ch)
{
    const auto c = static_cast<unsigned char>(ch);
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B)
        || (c >= 0x5D && c <= 0x7E) || c >= 0x80;
}

// The second byte of a quoted-pair: HTAB, SP, VCHAR, obs-text.
bool isQuotedPairChar(char ch)
{
    const auto c = static_cast<unsigned char>(ch);
    return c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7E) || c >= 0x80;
}

// One field value, read left to right once (lookaheads re-read at most one token).
class FieldParser
{
public:
    explicit FieldParser(QByteArrayView s)
        : m_s(s)
    {
    }

    bool parse(QList<Challenge> &out)
    {
        bool ok = true;
        for (;;) {
            skipOwsAndCommas();
            if (atEnd())
                return ok;
            if (out.size() >= maxChallenges)
                return false;
            Challenge c;
            if (parseChallenge(c)) {
                out.append(std::move(c));
            } else {
                ok = false;
                recover();
            }
        }
    }

private:
    bool atEnd() const { return m_i >= m_s.size(); }
    char cur() const { return m_s[m_i]; }

    void skipOws()
    {
        while (!atEnd() && isOws(cur()))
            ++m_i;
    }
    void skipOwsAndCommas()
    {
        while (!atEnd() && (isOws(cur()) || cur() == ','))
            ++m_i;
    }
    qsizetype tokenEnd(qsizetype from) const
    {
        while (from < m_s.size() && CharClass::is(m_s[from], CharClass::Token))
            ++from;
        return from;
    }
    QByteArrayView token()
    {
        const qsizetype start = m_i;
        m_i = tokenEnd(m_i);
        return m_s.sliced(start, m_i - start);
    }
    // Does an auth-param (token BWS "=") start at \a at?
    bool paramStartsAt(qsizetype at) const
    {
        qsizetype j = tokenEnd(at);
        if (j == at)
            return false;
        while (j < m_s.size() && isOws(m_s[j]))
            ++j;
        return j < m_s.size() && m_s[j] == '=';
    }

    bool quotedString(QByteArray &out)
    {
        ++m_i; // the opening DQUOTE
        m_inQuotes = true;
        while (!atEnd()) {
            const char c = cur();
            if (c == '"') {
                ++m_i;
                m_inQuotes = false;
                return true;
            }
            if (c == '\\') {
                if (m_i + 1 >= m_s.size() || !isQuotedPairChar(m_s[m_i + 1]))
                    return false;
                out.append(m_s[m_i + 1]);
                m_i += 2;
                continue;
            }
            if (!isQdText(c))
                return false;
            out.append(c);
            ++m_i;
        }
        return false; // unterminated
    }

    // token68 then OWS then the end or a comma.
    bool tryToken68(Challenge &c)
    {
        qsizetype j = m_i;
        while (j < m_s.size() && isToken68Char(m_s[j]))
            ++j;
        if (j == m_i)
            return false;
        while (j < m_s.size() && m_s[j] == '=')
            ++j;
        qsizetype k = j;
        while (k < m_s.size() && isOws(m_s[k]))
            ++k;
        if (k < m_s.size() && m_s[k] != ',')
            return false;
        c.token68 = m_s.sliced(m_i, j - m_i).toByteArray();
        m_i = k;
        return true;
    }

    bool parseChallenge(Challenge &c)
    {
        const QByteArrayView scheme = token();
        if (scheme.isEmpty())
            return false;
        c.scheme = scheme.toByteArray();
        const qsizetype afterScheme = m_i;
        skipOws();
        if (atEnd() || cur() == ',')
            return true;
        if (m_i == afterScheme)
            return false; // "Basic=..." or "Basic\"": no space after the scheme
        if (tryToken68(c))
            return true;
        for (;;) {
            const QByteArrayView name = token();
            if (name.isEmpty())
                return false;
            skipOws();
            if (atEnd() || cur() != '=')
                return false;
            ++m_i;
            skipOws();
            if (atEnd())
                return false;
            QByteArray value;
            if (cur() == '"') {
                if (!quotedString(value))
                    return false;
            } else {
                const QByteArrayView v = token();
                if (v.isEmpty())
                    return false;
                value = v.toByteArray();
            }
            const QByteArray lowerName = name.toByteArray().toLower();
            if (c.param(lowerName) || c.params.size() >= maxParams)
                return false;
            c.params.append({lowerName, std::move(value)});
            skipOws();
            if (atEnd())
                return true;
            if (cur() != ',')
                return false;
            qsizetype k = m_i;
            while (k < m_s.size() && (isOws(m_s[k]) || m_s[k] == ','))
                ++k;
            if (k >= m_s.size() || !paramStartsAt(k))
                return true; // the end, or the next challenge (the caller skips the commas)
            m_i = k;
        }
    }

    // After a malformed challenge: skip its remaining list elements (those that are
    // auth-params) up to the next element that can start a challenge.
    void recover()
    {
        for (;;) {
            bool quoted = std::exchange(m_inQuotes, false);
            while (!atEnd()) {
                const char c = cur();
                if (quoted) {
                    if (c == '\\')
                        ++m_i;
                    else if (c == '"')
                        quoted = false;
                } else if (c == '"') {
                    quoted = true;
                } else if (c == ',') {
                    break;
                }
                ++m_i;
            }
            skipOwsAndCommas();
            if (atEnd() || !paramStartsAt(m_i))
                return;
        }
    }

    QByteArrayView m_s;
    qsizetype m_i = 0;
    bool m_inQuotes = false; // a failure inside a quoted-string: recover() starts inside it
};

QCryptographicHash::Algorithm hashOf(DigestState::Algorithm a)
{
    return a == DigestState::Algorithm::Md5 || a == DigestState::Algorithm::Md5Sess
        ? QCryptographicHash::Md5
        : QCryptographicHash::Sha256;
}

bool isSess(DigestState::Algorithm a)
{
    return a == DigestState::Algorithm::Md5Sess || a == DigestState::Algorithm::Sha256Sess;
}

// Does the comma list \a qop (e.g. "auth, auth-int") offer "auth"?
bool offersAuth(QByteArrayView qop)
{
    for (const QByteArrayView item : QByteArray(qop.toByteArray()).split(',')) {
        if (item.trimmed().compare("auth", Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

QByteArray quote(QByteArrayView v)
{
    QByteArray out;
    out.reserve(v.size() + 2);
    out.append('"');
    for (const char c : v) {
        if (c == '"' || c == '\\')
            out.append('\\');
        out.append(c);
    }
    out.append('"');
    return out;
}

// A user name that can go in a quoted-string as it is: printable ASCII (and SP).
bool isPlainAscii(QByteArrayView s)
{
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u > 0x7E)
            return false;
    }
    return true;
}

} // namespace

bool parseField(QByteArrayView value, QList<Challenge> &out)
{
    return FieldParser(value).parse(out);
}

QList<Challenge> parseChallenges(const Headers &headers, QByteArrayView fieldName, bool *malformed)
{
    QList<Challenge> out;
    bool ok = true;
    for (const Headers::Field f : headers) {
        if (Headers::nameEquals(f.name, fieldName))
            ok = parseField(f.value, out) && ok;
    }
    if (malformed)
        *malformed = !ok;
    return out;
}

QByteArray basicValue(const QString &user, const QString &password)
{
    return "Basic " + (user.toUtf8() + ':' + password.toUtf8()).toBase64();
}

std::optional<DigestState::Algorithm> DigestState::algorithmFromName(QByteArrayView name)
{
    if (name.isEmpty() || name.compare("MD5", Qt::CaseInsensitive) == 0)
        return Algorithm::Md5;
    if (name.compare("MD5-sess", Qt::CaseInsensitive) == 0)
        return Algorithm::Md5Sess;
    if (name.compare("SHA-256", Qt::CaseInsensitive) == 0)
        return Algorithm::Sha256;
    if (name.compare("SHA-256-sess", Qt::CaseInsensitive) == 0)
        return Algorithm::Sha256Sess;
    return std::nullopt;
}

bool DigestState::canAnswer(const Challenge &c)
{
    if (!c.isScheme("Digest") || !c.token68.isEmpty())
        return false;
    const auto nonce = c.param("nonce");
    if (!nonce || nonce->isEmpty() || !c.param("realm"))
        return false;
    const auto algorithm = algorithmFromName(c.param("algorithm").value_or(QByteArray()));
    if (!algorithm)
        return false;
    const auto qop = c.param("qop");
    if (qop)
        return offersAuth(*qop);
    return !isSess(*algorithm); // -sess needs a cnonce, which only qop brings
}

bool DigestState::accept(const Challenge &c)
{
    if (!canAnswer(c))
        return false;
    const QByteArray nonce = *c.param("nonce");
    if (nonce != m_nonce)
        m_nc = 0;
    m_nonce = nonce;
    m_realm = *c.param("realm");
    const auto opaque = c.param("opaque");
    m_hasOpaque = opaque.has_value();
    m_opaque = opaque.value_or(QByteArray());
    m_algorithmName = c.param("algorithm").value_or(QByteArray());
    m_algorithm = *algorithmFromName(m_algorithmName);
    m_qopAuth = c.param("qop").has_value();
    m_userhash
        = c.param("userhash").value_or(QByteArray()).compare("true", Qt::CaseInsensitive) == 0;
    return true;
}

QByteArray DigestState::authorize(QByteArrayView method, QByteArrayView uri, const QString &user,
    const QString &password, QByteArrayView cnonceIn)
{
    if (!isValid())
        return {};
    const auto h = [hash = hashOf(m_algorithm)](QByteArrayView data) {
        return QCryptographicHash::hash(data, hash).toHex();
    };
    ++m_nc;
    const QByteArray nc = QByteArray::number(m_nc, 16).rightJustified(8, '0');
    QByteArray cnonce = cnonceIn.toByteArray();
    if (m_qopAuth && cnonce.isEmpty()) {
        quint32 random[4];
        QRandomGenerator::system()->fillRange(random);
        cnonce = QByteArray(reinterpret_cast<const char *>(random), sizeof random).toHex();
    }
    const QByteArray userBytes = user.toUtf8();
    QByteArray ha1 = h(userBytes + ':' + m_realm + ':' + password.toUtf8());
    if (isSess(m_algorithm))
        ha1 = h(ha1 + ':' + m_nonce + ':' + cnonce);
    const QByteArray ha2 = h(method.toByteArray() + ':' + uri.toByteArray());
    const QByteArray response = m_qopAuth
        ? h(ha1 + ':' + m_nonce + ':' + nc + ':' + cnonce + ":auth:" + ha2)
        : h(ha1 + ':' + m_nonce + ':' + ha2);

    QByteArray out = "Digest ";
    if (m_userhash)
        out += "username=" + quote(h(userBytes + ':' + m_realm));
    else if (isPlainAscii(userBytes))
        out += "username=" + quote(userBytes);
    else // RFC 7616 §3.4.4, RFC 8187 encoding
        out += "username*=UTF-8''" + userBytes.toPercentEncoding();
    out += ", realm=" + quote(m_realm) + ", nonce=" + quote(m_nonce) + ", uri=" + quote(uri);
    if (!m_algorithmName.isEmpty())
        out += ", algorithm=" + m_algorithmName;
    out += ", response=" + quote(response);
    if (m_qopAuth)
        out += ", qop=auth, nc=" + nc + ", cnonce=" + quote(cnonce);
    if (m_hasOpaque)
        out += ", opaque=" + quote(m_opaque);
    if (m_userhash)
        out += ", userhash=true";
    return out;
}

std::optional<QByteArray> answerChallenges(const QList<Challenge> &challenges,
    QByteArrayView method, QByteArrayView uri, const QString &user, const QString &password,
    DigestState *state, std::uint8_t allowed)
{
    for (const Challenge &c : challenges) {
        if ((allowed & Basic) && c.isScheme("Basic"))
            return basicValue(user, password);
        if ((allowed & Digest) && state && DigestState::canAnswer(c)) {
            state->accept(c);
            return state->authorize(method, uri, user, password);
        }
    }
    return std::nullopt;
}

bool isStale(const QList<Challenge> &challenges)
{
    for (const Challenge &c : challenges) {
        if (c.isScheme("Digest")
            && c.param("stale").value_or(QByteArray()).compare("true", Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

} // namespace Reqivo::Protocol::Auth
