// HTTP authentication, sans-I/O (src/protocol/httpauth.h): the WWW-Authenticate /
// Proxy-Authenticate parser of RFC 9110 §11 (several challenges per field and several fields,
// quoted-string escapes, token68, case rules, malformed input skipped whole, bounds), the
// Digest answer checked against RFC 7616 §3.9.1's example values, nonce counting, qop and
// algorithm rules, and answerChallenges()'s choice of the first supported challenge.
#include "protocol/httpauth.h"

#include <QCryptographicHash>
#include <QTest>

using namespace Reqivo::Protocol::Auth;
using Reqivo::Headers;

namespace {

using Params = QList<std::pair<QByteArray, QByteArray>>;

Challenge ch(QByteArray scheme, Params params = {}, QByteArray token68 = {})
{
    return {std::move(scheme), std::move(params), std::move(token68)};
}

// The values of an Authorization: Digest field, by name (unquoted).
QMap<QByteArray, QByteArray> digestFields(const QByteArray &value)
{
    QList<Challenge> parsed;
    // An Authorization value has the challenge syntax (credentials = auth-scheme ...).
    [[maybe_unused]] const bool ok = parseField(value, parsed);
    QMap<QByteArray, QByteArray> out;
    if (parsed.size() != 1)
        return out;
    for (const auto &[k, v] : parsed.first().params)
        out.insert(k, v);
    return out;
}

const QByteArray rfcSha256Challenge
    = R"(Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, )"
      R"(nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", )"
      R"(opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")";
const QByteArray rfcMd5Challenge
    = R"(Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, )"
      R"(nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", )"
      R"(opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")";
const QByteArray rfcCnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

Challenge parseOne(const QByteArray &field)
{
    QList<Challenge> out;
    parseField(field, out);
    return out.value(0);
}

} // namespace

Q_DECLARE_METATYPE(Challenge)

class TestHttpAuth : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parse_data();
    void parse();
    void parseSeveralFields();
    void parseBounds();
    void parseHostileInputTerminates();

    void rfc7616Example_data();
    void rfc7616Example();
    void nonceCountPerNonce();
    void qopRules_data();
    void qopRules();
    void rfc2069Form();
    void sessAlgorithms();
    void userhashAndOpaqueAndQuoting();
    void randomCnonce();

    void answerFirstSupported_data();
    void answerFirstSupported();
    void basicValue();
    void stale();
};

void TestHttpAuth::parse_data()
{
    QTest::addColumn<QByteArray>("field");
    QTest::addColumn<QList<Challenge>>("expected");
    QTest::addColumn<bool>("ok");

    QTest::newRow("scheme alone") << QByteArray("Negotiate") << QList {ch("Negotiate")} << true;
    QTest::newRow("basic realm") << QByteArray(R"(Basic realm="simple")")
                                 << QList {ch("Basic", {{"realm", "simple"}})} << true;
    QTest::newRow("case of names")
        << QByteArray(R"(bAsIc ReAlM="x", CHARSET=UTF-8)")
        << QList {ch("bAsIc", {{"realm", "x"}, {"charset", "UTF-8"}})} << true;
    QTest::newRow("token68") << QByteArray("Negotiate abc+/9==")
                             << QList {ch("Negotiate", {}, "abc+/9==")} << true;
    QTest::newRow("token68 then challenge")
        << QByteArray(R"(Negotiate abc=, Basic realm="r")")
        << QList {ch("Negotiate", {}, "abc="), ch("Basic", {{"realm", "r"}})} << true;
    QTest::newRow("RFC 9110 example") // §11.6.1
        << QByteArray(R"(Basic realm="simple", Newauth realm="apps", type=1, )"
                      "title=\"Login to \\\"apps\\\"\"")
        << QList {ch("Basic", {{"realm", "simple"}}),
               ch("Newauth", {{"realm", "apps"}, {"type", "1"}, {"title", R"(Login to "apps")"}})}
        << true;
    QTest::newRow("BWS and empty elements")
        << QByteArray(R"( ,, Digest realm = "a" ,, nonce= "n" , , Basic  ,)")
        << QList {ch("Digest", {{"realm", "a"}, {"nonce", "n"}}), ch("Basic")} << true;
    QTest::newRow("escapes") << QByteArray("X a=\"\\\\\\\"\\q\"")
                             << QList {ch("X", {{"a", "\\\"q"}})} << true;
    QTest::newRow("comma inside quotes")
        << QByteArray(R"(Digest qop="auth, auth-int", realm="a,b")")
        << QList {ch("Digest", {{"qop", "auth, auth-int"}, {"realm", "a,b"}})} << true;
    QTest::newRow("empty quoted value")
        << QByteArray(R"(X a="")") << QList {ch("X", {{"a", ""}})} << true;

    // Malformed challenges are dropped whole; what follows them is still read.
    QTest::newRow("unterminated quote")
        << QByteArray(R"(Basic realm="x, Digest realm="y")") << QList<Challenge> {} << false;
    QTest::newRow("token68 is not a param") // "realm=" is a token68; "nonce=..." no challenge
        << QByteArray(R"(Digest realm=, nonce="n", Basic)")
        << QList {ch("Digest", {}, "realm="), ch("Basic")} << false;
    QTest::newRow("param without value, next kept")
        << QByteArray(R"(Digest realm="a", nonce=, qop="auth", Basic realm="b")")
        << QList {ch("Basic", {{"realm", "b"}})} << false;
    QTest::newRow("duplicate param")
        << QByteArray(R"(Digest realm="a", realm="b", Basic)") << QList {ch("Basic")} << false;
    QTest::newRow("no space after scheme")
        << QByteArray(R"(Basic="x", Bearer)") << QList {ch("Bearer")} << false;
    QTest::newRow("control char in quotes")
        << QByteArray("Digest realm=\"a\x01\", Basic") << QList {ch("Basic")} << false;
    QTest::newRow("bad escape at end")
        << QByteArray("Digest realm=\"a\\") << QList<Challenge> {} << false;
    QTest::newRow("unquoted value not a token")
        << QByteArray(R"(Digest nonce=a/b, Basic realm="r")")
        << QList {ch("Basic", {{"realm", "r"}})} << false;
    QTest::newRow("garbage then challenge") << QByteArray(R"(@@@, Bearer realm="x")")
                                            << QList {ch("Bearer", {{"realm", "x"}})} << false;
    QTest::newRow("two values") << QByteArray(R"(Digest a=b c, Basic)") << QList {ch("Basic")}
                                << false;
    QTest::newRow("empty") << QByteArray() << QList<Challenge> {} << true;
}

void TestHttpAuth::parse()
{
    QFETCH(QByteArray, field);
    QFETCH(QList<Challenge>, expected);
    QFETCH(bool, ok);
    QList<Challenge> out;
    QCOMPARE(parseField(field, out), ok);
    QCOMPARE(out.size(), expected.size());
    for (qsizetype i = 0; i < out.size(); ++i) {
        QCOMPARE(out[i].scheme, expected[i].scheme);
        QCOMPARE(out[i].params, expected[i].params);
        QCOMPARE(out[i].token68, expected[i].token68);
    }
}

void TestHttpAuth::parseSeveralFields()
{
    Headers h;
    h.add("WWW-Authenticate", R"(Digest realm="a", nonce="1")");
    h.add("Content-Type", "text/plain");
    h.add("www-authenticate", R"(Basic realm="b", Bearer)");
    h.add("Proxy-Authenticate", "Basic realm=\"p\"");
    bool malformed = true;
    const QList<Challenge> c = parseChallenges(h, "WWW-Authenticate", &malformed);
    QVERIFY(!malformed);
    QCOMPARE(c.size(), 3);
    QVERIFY(c[0].isScheme("digest"));
    QCOMPARE(c[1].param("realm"), QByteArray("b"));
    QVERIFY(c[2].isScheme("BEARER"));
    const QList<Challenge> p = parseChallenges(h, "proxy-authenticate", &malformed);
    QCOMPARE(p.size(), 1);
    QCOMPARE(p[0].realm(), QByteArray("p"));

    h.add("WWW-Authenticate", "\"junk");
    parseChallenges(h, "WWW-Authenticate", &malformed);
    QVERIFY(malformed);
}

void TestHttpAuth::parseBounds()
{
    QByteArray many;
    for (int i = 0; i < maxChallenges + 10; ++i)
        many += "S" + QByteArray::number(i) + ", ";
    QList<Challenge> out;
    QVERIFY(!parseField(many, out));
    QCOMPARE(out.size(), maxChallenges);
    // The bound holds across fields too.
    QVERIFY(!parseField("Basic", out));
    QCOMPARE(out.size(), maxChallenges);

    QByteArray params = "Digest ";
    for (int i = 0; i < maxParams + 1; ++i)
        params += "p" + QByteArray::number(i) + "=v, ";
    params += "Basic";
    out.clear();
    QVERIFY(!parseField(params, out));
    QCOMPARE(out.size(), 1);
    QVERIFY(out[0].isScheme("Basic"));

    params = "Digest ";
    for (int i = 0; i < maxParams; ++i)
        params += "p" + QByteArray::number(i) + "=v,";
    out.clear();
    QVERIFY(parseField(params, out));
    QCOMPARE(out[0].params.size(), maxParams);
}

void TestHttpAuth::parseHostileInputTerminates()
{
    // Every prefix of a field mixing every construct, and long runs of each delimiter: parsing
    // ends, keeps at most the bounds, and never reads past the view.
    const QByteArray mix = "Digest realm=\"a\\\"b,c\", nonce=xyz, qop=\"auth\", Basic, Neg abc==,"
                           " X y = \"z\" , \"q\", ==, \\, Bearer error=\"invalid_token\"";
    for (qsizetype n = 0; n <= mix.size(); ++n) {
        QList<Challenge> out;
        parseField(QByteArrayView(mix).first(n), out);
        QVERIFY(out.size() <= maxChallenges);
    }
    for (const char c : QByteArray(",=\" \\a")) {
        QList<Challenge> out;
        parseField(QByteArray(100000, c), out);
        QVERIFY(out.size() <= 1);
    }
    QList<Challenge> out;
    parseField(QByteArray(50000, 'a') + ' ' + QByteArray(50000, 'b') + QByteArray(50000, '='), out);
    QCOMPARE(out.size(), 1);
    QCOMPARE(out[0].token68.size(), 100000);
    out.clear();
    QVERIFY(!parseField(QByteArray(50000, 'a') + ' ' + QByteArray(50000, '='), out));
    QCOMPARE(out.size(), 0);
}

void TestHttpAuth::rfc7616Example_data()
{
    QTest::addColumn<QByteArray>("challenge");
    QTest::addColumn<QByteArray>("response");
    QTest::newRow("SHA-256")
        << rfcSha256Challenge
        << QByteArray("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
    QTest::newRow("MD5") << rfcMd5Challenge << QByteArray("8ca523f5e9506fed4657c9700eebdbec");
}

void TestHttpAuth::rfc7616Example()
{
    QFETCH(QByteArray, challenge);
    QFETCH(QByteArray, response);
    DigestState state;
    QVERIFY(state.accept(parseOne(challenge)));
    const QByteArray value = state.authorize("GET", "/dir/index.html", QStringLiteral("Mufasa"),
        QStringLiteral("Circle of Life"), rfcCnonce);
    QVERIFY(value.startsWith("Digest "));
    const auto f = digestFields(value);
    QCOMPARE(f.value("response"), response);
    QCOMPARE(f.value("username"), QByteArray("Mufasa"));
    QCOMPARE(f.value("realm"), QByteArray("http-auth@example.org"));
    QCOMPARE(f.value("uri"), QByteArray("/dir/index.html"));
    QCOMPARE(f.value("nc"), QByteArray("00000001"));
    QCOMPARE(f.value("qop"), QByteArray("auth"));
    QCOMPARE(f.value("cnonce"), rfcCnonce);
    QCOMPARE(f.value("opaque"), QByteArray("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"));
    QCOMPARE(f.value("nonce"), QByteArray("7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"));
    QVERIFY(f.contains("algorithm"));
}

void TestHttpAuth::nonceCountPerNonce()
{
    DigestState state;
    QVERIFY(!state.isValid());
    QVERIFY(state.authorize("GET", "/", u"u"_qs, u"p"_qs).isEmpty());
    QVERIFY(state.accept(parseOne(rfcSha256Challenge)));
    for (int i = 1; i <= 17; ++i) {
        const auto f = digestFields(state.authorize("GET", "/", u"u"_qs, u"p"_qs));
        QCOMPARE(f.value("nc"), QByteArray::number(i, 16).rightJustified(8, '0'));
    }
    QCOMPARE(state.nonceCount(), 17u);
    // The same nonce again keeps counting; a new nonce starts at 1.
    QVERIFY(state.accept(parseOne(rfcSha256Challenge)));
    QCOMPARE(digestFields(state.authorize("GET", "/", u"u"_qs, u"p"_qs)).value("nc"),
        QByteArray("00000012"));
    QVERIFY(state.accept(parseOne(R"(Digest realm="r", nonce="other", qop=auth)")));
    QCOMPARE(digestFields(state.authorize("GET", "/", u"u"_qs, u"p"_qs)).value("nc"),
        QByteArray("00000001"));
}

void TestHttpAuth::qopRules_data()
{
    QTest::addColumn<QByteArray>("challenge");
    QTest::addColumn<bool>("answerable");
    QTest::newRow("auth") << QByteArray(R"(Digest realm="r", nonce="n", qop="auth")") << true;
    QTest::newRow("auth-int only")
        << QByteArray(R"(Digest realm="r", nonce="n", qop="auth-int")") << false;
    QTest::newRow("auth-int, AUTH")
        << QByteArray(R"(Digest realm="r", nonce="n", qop="auth-int,AUTH")") << true;
    QTest::newRow("no qop") << QByteArray(R"(Digest realm="r", nonce="n")") << true;
    QTest::newRow("unknown algorithm")
        << QByteArray(R"(Digest realm="r", nonce="n", qop=auth, algorithm=SHA-512-256)") << false;
    QTest::newRow("algorithm case")
        << QByteArray(R"(Digest realm="r", nonce="n", algorithm=sha-256)") << true;
    QTest::newRow("no nonce") << QByteArray(R"(Digest realm="r", qop=auth)") << false;
    QTest::newRow("no realm") << QByteArray(R"(Digest nonce="n", qop=auth)") << false;
    QTest::newRow("sess without qop")
        << QByteArray(R"(Digest realm="r", nonce="n", algorithm=MD5-sess)") << false;
    QTest::newRow("basic") << QByteArray(R"(Basic realm="r")") << false;
    QTest::newRow("token68") << QByteArray("Digest abc") << false;
}

void TestHttpAuth::qopRules()
{
    QFETCH(QByteArray, challenge);
    QFETCH(bool, answerable);
    const Challenge c = parseOne(challenge);
    QCOMPARE(DigestState::canAnswer(c), answerable);
    DigestState state;
    QCOMPARE(state.accept(c), answerable);
    QCOMPARE(state.isValid(), answerable);
}

void TestHttpAuth::rfc2069Form()
{
    // RFC 2069 (no qop): response = H(H(A1):nonce:H(A2)), no nc, no cnonce. Computed here from
    // the definition with the RFC 2617 §3.5 example's inputs.
    DigestState state;
    QVERIFY(state.accept(parseOne(
        R"(Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093")")));
    const auto f = digestFields(
        state.authorize("GET", "/dir/index.html", u"Mufasa"_qs, u"Circle Of Life"_qs));
    const QByteArray ha1 = QCryptographicHash::hash(
        "Mufasa:testrealm@host.com:Circle Of Life", QCryptographicHash::Md5)
                               .toHex();
    const QByteArray ha2
        = QCryptographicHash::hash("GET:/dir/index.html", QCryptographicHash::Md5).toHex();
    QCOMPARE(f.value("response"),
        QCryptographicHash::hash(
            ha1 + ":dcd98b7102dd2f0e8b11d0f600bfb0c093:" + ha2, QCryptographicHash::Md5)
            .toHex());
    QVERIFY(!f.contains("nc"));
    QVERIFY(!f.contains("cnonce"));
    QVERIFY(!f.contains("qop"));
    QVERIFY(!f.contains("algorithm")); // not named by the challenge, not named in the answer
}

void TestHttpAuth::sessAlgorithms()
{
    // RFC 2617 §3.2.2.2 / RFC 7616 §3.4.2: A1 = H(user:realm:pass):nonce:cnonce.
    for (const auto &[name, hash] : {std::pair {QByteArray("MD5-sess"), QCryptographicHash::Md5},
             std::pair {QByteArray("SHA-256-sess"), QCryptographicHash::Sha256}}) {
        DigestState state;
        QVERIFY(
            state.accept(parseOne("Digest realm=\"r\", nonce=\"n\", qop=auth, algorithm=" + name)));
        const auto f = digestFields(state.authorize("POST", "/x", u"u"_qs, u"p"_qs, "c"));
        const auto h
            = [hash](const QByteArray &d) { return QCryptographicHash::hash(d, hash).toHex(); };
        const QByteArray ha1 = h(h("u:r:p") + ":n:c");
        QCOMPARE(f.value("response"), h(ha1 + ":n:00000001:c:auth:" + h("POST:/x")));
        QCOMPARE(f.value("algorithm"), name);
    }
}

void TestHttpAuth::userhashAndOpaqueAndQuoting()
{
    DigestState state;
    QVERIFY(state.accept(parseOne(
        "Digest realm=\"a\\\"b\", nonce=\"n\\\\1\", qop=auth, algorithm=SHA-256, userhash=true")));
    const QByteArray value = state.authorize("GET", "/p?q=\"x\"", u"Jäsøn"_qs, u"pw"_qs, "c");
    const auto f = digestFields(value);
    QCOMPARE(f.value("realm"), QByteArray("a\"b"));
    QCOMPARE(f.value("nonce"), QByteArray("n\\1"));
    QCOMPARE(f.value("uri"), QByteArray("/p?q=\"x\""));
    QCOMPARE(f.value("userhash"), QByteArray("true"));
    QCOMPARE(f.value("username"),
        QCryptographicHash::hash(u"Jäsøn:a\"b"_qs.toUtf8(), QCryptographicHash::Sha256).toHex());
    QVERIFY(!f.contains("opaque"));

    // Without userhash a non-ASCII name goes as username* (RFC 8187).
    DigestState plain;
    QVERIFY(plain.accept(parseOne(R"(Digest realm="r", nonce="n", qop=auth, opaque="")")));
    const auto g = digestFields(plain.authorize("GET", "/", u"Jäsøn"_qs, u"pw"_qs, "c"));
    QCOMPARE(g.value("username*"), QByteArray("UTF-8''J%C3%A4s%C3%B8n"));
    QVERIFY(!g.contains("username"));
    QVERIFY(g.contains("opaque"));
    QCOMPARE(g.value("opaque"), QByteArray());
}

void TestHttpAuth::randomCnonce()
{
    DigestState state;
    QVERIFY(state.accept(parseOne(rfcSha256Challenge)));
    const auto a = digestFields(state.authorize("GET", "/", u"u"_qs, u"p"_qs));
    const auto b = digestFields(state.authorize("GET", "/", u"u"_qs, u"p"_qs));
    QCOMPARE(a.value("cnonce").size(), 32);
    QVERIFY(a.value("cnonce") != b.value("cnonce"));
}

void TestHttpAuth::answerFirstSupported_data()
{
    QTest::addColumn<QByteArray>("field");
    QTest::addColumn<int>("allowed");
    QTest::addColumn<QByteArray>("prefix"); // empty: no answer

    const QByteArray digest = R"(Digest realm="r", nonce="n", qop=auth)";
    QTest::newRow("digest then basic")
        << (digest + ", Basic realm=\"r\"") << int(Basic | Digest) << QByteArray("Digest ");
    QTest::newRow("basic then digest")
        << ("Basic realm=\"r\", " + digest) << int(Basic | Digest) << QByteArray("Basic ");
    QTest::newRow("basic then digest, digest only")
        << ("Basic realm=\"r\", " + digest) << int(Digest) << QByteArray("Digest ");
    QTest::newRow("unknown first")
        << ("Bearer, Negotiate abc, " + digest) << int(Basic | Digest) << QByteArray("Digest ");
    QTest::newRow("unknown algorithm only")
        << QByteArray(R"(Digest realm="r", nonce="n", algorithm=SHA-512-256)") << int(Digest)
        << QByteArray();
    QTest::newRow("unknown algorithm then MD5")
        << QByteArray(R"(Digest realm="r", nonce="n", algorithm=SHA-512-256, )"
                      R"(Digest realm="r", nonce="m", algorithm=MD5)")
        << int(Digest) << QByteArray("Digest ");
    QTest::newRow("auth-int only") << QByteArray(R"(Digest realm="r", nonce="n", qop=auth-int)")
                                   << int(Basic | Digest) << QByteArray();
    QTest::newRow("basic only, digest allowed")
        << QByteArray("Basic realm=\"r\"") << int(Digest) << QByteArray();
    QTest::newRow("none") << QByteArray() << int(Basic | Digest) << QByteArray();
}

void TestHttpAuth::answerFirstSupported()
{
    QFETCH(QByteArray, field);
    QFETCH(int, allowed);
    QFETCH(QByteArray, prefix);
    QList<Challenge> challenges;
    parseField(field, challenges);
    DigestState state;
    const auto answer
        = answerChallenges(challenges, "GET", "/", u"u"_qs, u"p"_qs, &state, std::uint8_t(allowed));
    QCOMPARE(answer.has_value(), !prefix.isEmpty());
    if (answer)
        QVERIFY2(answer->startsWith(prefix), answer->constData());
    if (prefix == "Digest ")
        QCOMPARE(state.nonceCount(), 1u);
    // Without a state Digest is never answered.
    const auto stateless = answerChallenges(
        challenges, "GET", "/", u"u"_qs, u"p"_qs, nullptr, std::uint8_t(allowed));
    QVERIFY(!stateless || stateless->startsWith("Basic "));
}

void TestHttpAuth::basicValue()
{
    QCOMPARE(Reqivo::Protocol::Auth::basicValue(u"Aladdin"_qs, u"open sesame"_qs),
        QByteArray("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
    QCOMPARE(Reqivo::Protocol::Auth::basicValue(u"test"_qs, u"123£"_qs),
        QByteArray("Basic dGVzdDoxMjPCow==")); // RFC 7617 §2.1's UTF-8 example
}

void TestHttpAuth::stale()
{
    QList<Challenge> c;
    parseField(R"(Basic, Digest realm="r", nonce="n", stale=TRUE)", c);
    QVERIFY(isStale(c));
    c.clear();
    parseField(R"(Digest realm="r", nonce="n", stale=false, Basic stale=true)", c);
    QVERIFY(!isStale(c));
}

QTEST_APPLESS_MAIN(TestHttpAuth)
#include "tst_httpauth.moc"
