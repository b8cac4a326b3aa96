// HTTP authentication, sans-I/O: the challenge parser for WWW-Authenticate and
// Proxy-Authenticate (RFC 9110 §11.2-11.7), the Basic value (RFC 7617) and the Digest answer
// (RFC 7616). QtCore only, no I/O, never throws.
//
// The parser is strict and bounded (each rule has a test in tests/unit/protocol/tst_httpauth.cpp):
//  * A field holds a comma list of challenges: `scheme [ 1*SP ( token68 / #auth-param ) ]`;
//    several fields are read in order. Empty list elements are skipped.
//  * The scheme is kept as sent (compare case-insensitively); auth-param names are lower-cased;
//    values are tokens or quoted-strings, quoted-pairs unescaped. BWS is allowed around '='.
//  * A malformed challenge (a bad character, an unterminated quoted-string, a param without a
//    value, a repeated param name) is skipped whole: parsing resumes at the next list element
//    that starts a challenge, and the caller is told something was skipped.
//  * At most maxChallenges challenges and maxParams params per challenge are kept; the rest is
//    skipped as malformed, so hostile fields cannot grow memory beyond the field itself.
//
// Digest (RFC 7616): algorithms MD5, MD5-sess, SHA-256 and SHA-256-sess (absent means MD5);
// qop=auth (a challenge offering only auth-int is not answered; no qop at all is RFC 2069's
// form, without nc and cnonce); userhash=true sends the hashed user name; opaque is echoed; nc
// counts the requests made with one nonce (8 hex digits) and restarts at 1 for a new nonce; the
// cnonce is random. An unknown algorithm is not answered.
#pragma once

#include <Reqivo/headers.h>
#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

#include <cstdint>
#include <optional>
#include <utility>

namespace Reqivo::Protocol::Auth {

//! Bounds of the parser: challenges kept per response, params kept per challenge.
inline constexpr int maxChallenges = 32;
inline constexpr int maxParams = 32;

//! One challenge of a WWW-Authenticate or Proxy-Authenticate field.
struct Challenge
{
    QByteArray scheme; //!< As sent; compare with isScheme().
    QList<std::pair<QByteArray, QByteArray>> params; //!< Names lower-cased, values unquoted.
    QByteArray token68; //!< A token68 challenge's value (then params is empty).

    //! The value of parameter \a name (lower case), if present.
    REQIVO_TESTS_EXPORT std::optional<QByteArray> param(QByteArrayView name) const;
    //! True when the scheme is \a name, ignoring ASCII case.
    REQIVO_TESTS_EXPORT bool isScheme(QByteArrayView name) const;
    //! The realm parameter, or empty.
    QByteArray realm() const { return param("realm").value_or(QByteArray()); }

    friend bool operator==(const Challenge &, const Challenge &) = default;
};

//! Appends the challenges of one field value \a value to \a out (up to maxChallenges in all).
//! Returns false when anything was skipped as malformed or over a bound.
REQIVO_TESTS_EXPORT bool parseField(QByteArrayView value, QList<Challenge> &out);

//! Every challenge of every \a fieldName field of \a headers, in order. \a malformed, when
//! given, is set to whether anything was skipped.
REQIVO_TESTS_EXPORT QList<Challenge> parseChallenges(
    const Headers &headers, QByteArrayView fieldName, bool *malformed = nullptr);

//! "Basic " + base64(user ":" password), UTF-8 (RFC 7617 charset="UTF-8").
REQIVO_TESTS_EXPORT QByteArray basicValue(const QString &user, const QString &password);

//! The Digest state of one protection space: the challenge being answered and the nonce count.
//! Keep it between requests to answer the same nonce again (nc + 1) without a new challenge.
class REQIVO_TESTS_EXPORT DigestState
{
public:
    enum class Algorithm : std::uint8_t { Md5, Md5Sess, Sha256, Sha256Sess };

    //! True when \a c is a Digest challenge this implementation can answer (known algorithm,
    //! qop absent or offering "auth", realm and nonce present).
    static bool canAnswer(const Challenge &c);

    //! Takes \a c's realm, nonce, opaque, algorithm, qop and userhash. Returns false (and
    //! keeps the previous state) when canAnswer(\a c) is false. A new nonce restarts nc.
    bool accept(const Challenge &c);
    //! True once a challenge was accepted.
    bool isValid() const { return !m_nonce.isEmpty(); }
    //! The value of an Authorization (or Proxy-Authorization) field for a request of \a method
    //! to \a uri (the request-target as sent), counting one more use of the nonce. \a cnonce
    //! empty: a random one (tests pass a fixed one). Empty when !isValid().
    QByteArray authorize(QByteArrayView method, QByteArrayView uri, const QString &user,
        const QString &password, QByteArrayView cnonce = {});

    //! The nonce count of the last authorize() (0 before any).
    std::uint32_t nonceCount() const { return m_nc; }
    QByteArray realm() const { return m_realm; } //!< The accepted challenge's realm.
    QByteArray nonce() const { return m_nonce; } //!< The accepted challenge's nonce.
    Algorithm algorithm() const { return m_algorithm; } //!< The accepted algorithm.

    //! The algorithm named \a name (case-insensitive); nullopt for an unknown one. Empty is MD5.
    static std::optional<Algorithm> algorithmFromName(QByteArrayView name);

private:
    QByteArray m_realm;
    QByteArray m_nonce;
    QByteArray m_opaque;
    QByteArray m_algorithmName; // as sent; empty when the challenge named none
    Algorithm m_algorithm = Algorithm::Md5;
    bool m_hasOpaque = false;
    bool m_qopAuth = false; // false: RFC 2069 form
    bool m_userhash = false;
    std::uint32_t m_nc = 0;
};

//! Which schemes answerChallenges() may use.
enum Scheme : std::uint8_t { Basic = 1, Digest = 2 };

//! The answer to the first challenge of \a challenges that \a allowed schemes can answer, as an
//! Authorization / Proxy-Authorization value: Basic from \a user and \a password, or Digest
//! (updating \a state; required for Digest, which is skipped when it is null). nullopt when
//! none can be answered.
REQIVO_TESTS_EXPORT std::optional<QByteArray> answerChallenges(const QList<Challenge> &challenges,
    QByteArrayView method, QByteArrayView uri, const QString &user, const QString &password,
    DigestState *state, std::uint8_t allowed = Basic | Digest);

//! True when \a challenges holds a Digest challenge with stale=true (RFC 7616 §3.3: the
//! credentials were right, the nonce expired; answer again with the new nonce).
REQIVO_TESTS_EXPORT bool isStale(const QList<Challenge> &challenges);

} // namespace Reqivo::Protocol::Auth
