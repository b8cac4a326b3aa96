// The forwarding headers test: headers/<Name>.cpp, one per CamelCase header, include only that
// header and use what its API returns, takes and throws. That they compiled (warnings are
// errors) is most of the test; this program checks that every header had such a file (CMake
// generated an include-only one for a header without it).
#include <QTest>

class TestApiHeaders : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyHeaderHasItsTranslationUnit()
    {
        QVERIFY(REQIVO_FORWARDING_HEADERS >= 26); // the glob found the headers
        const QByteArray missing = REQIVO_HEADERS_WITHOUT_USAGE;
        QVERIFY2(missing.isEmpty(),
            "add tests/unit/api/headers/<Name>.cpp, using what the header's API returns, for: "
                + missing);
    }
};

QTEST_GUILESS_MAIN(TestApiHeaders)
#include "tst_api_headers.moc"
