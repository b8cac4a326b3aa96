// A user's program built against the installed Reqivo package. It checks behaviour through the
// shared library's exported symbols: header lookups, the error model, and exceptions thrown
// inside libReqivo and caught here (which needs their type info exported).
#include <Reqivo/Errors>
#include <Reqivo/Headers>

#include <QMetaEnum>
#include <QUrl>

#include <cstdio>
#include <cstring>

namespace {
int failures = 0;

void check(bool ok, const char *what)
{
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok)
        ++failures;
}
} // namespace

int main()
{
    check(std::strcmp(Reqivo::versionString(), REQIVO_PACKAGE_VERSION) == 0,
          "versionString() matches the CMake package version");
    check(std::strcmp(REQIVO_PACKAGE_VERSION, EXPECTED_VERSION) == 0,
          "the package version is the version that was built");

    Reqivo::Headers headers{{"Content-Type", "text/plain"}, {"Set-Cookie", "a=1"}};
    headers.add("set-cookie", "b=2");
    check(headers.size() == 3, "Headers keeps duplicate fields");
    check(headers.value("content-type") == QByteArrayView("text/plain"),
          "Headers looks names up case-insensitively");
    check(headers.values("SET-COOKIE") == QList<QByteArray>{"a=1", "b=2"},
          "Headers keeps Set-Cookie values apart, in order");
    headers.set("Content-Type", "application/json");
    check(headers.size() == 3 && headers.nameAt(0) == QByteArrayView("Content-Type")
              && headers.value("Content-Type") == QByteArrayView("application/json"),
          "Headers::set replaces in place");
    const Reqivo::Headers copy = headers;
    check(headers.remove("Set-Cookie") == 2 && headers.size() == 1 && copy.size() == 3,
          "Headers is a value type (copies are independent)");

    const Reqivo::Error error(Reqivo::Error::Kind::ReadTimeout, QStringLiteral("no data"),
                              QUrl(QStringLiteral("http://user:secret@127.0.0.1:8080/x")));
    check(error.isA(Reqivo::Error::Kind::Timeout) && error.isA(Reqivo::Error::Kind::Request)
              && !error.isA(Reqivo::Error::Kind::Network),
          "Error::isA follows the seed's hierarchy");
    check(error.typeName() == QStringLiteral("ReadTimeout"), "Error::typeName");
    check(!error.toString().contains(QStringLiteral("secret")),
          "Error never keeps credentials of its URL");
    check(QMetaEnum::fromType<Reqivo::Error::Kind>().valueToKey(
              int(Reqivo::Error::Kind::PoolTimeout))
              == QByteArrayView("PoolTimeout"),
          "Error::Kind is registered with the meta-object system");

    bool caught = false;
    try {
        error.raise();
    } catch (const Reqivo::TimeoutError &e) {
        caught = e.kind() == Reqivo::Error::Kind::ReadTimeout
            && dynamic_cast<const Reqivo::ReadTimeout *>(&e) != nullptr
            && std::strstr(e.what(), "no data") != nullptr;
    } catch (...) {
    }
    check(caught, "Error::raise() throws ReadTimeout, caught as TimeoutError across the library");

    std::printf("Reqivo %s from the installed package: %s\n", Reqivo::versionString(),
                failures ? "FAILED" : "all checks passed");
    return failures ? 1 : 0;
}
