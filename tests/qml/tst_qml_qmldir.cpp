// The repository's root qmldir must describe the module the build registers.
//
// The build (qt_add_qml_module in src/qml) writes <build>/qml/Reqivo/qmldir and reqivo.qmltypes.
// The root qmldir must carry the same directives (module, plugin, classname, typeinfo, ...) and
// list, in "# type <Name> <version> [uncreatable]" comment lines, every type the qmltypes file
// exports. Adding a QML type, renaming the plugin or changing the URI without updating the root
// qmldir fails here. The comparison is a pure function, tested on made-up files too, so that a
// broken checker cannot pass silently.
#include <QFile>
#include <QFileInfo>
#include <QQmlComponent>
#include <QQmlEngine>
#include <QRegularExpression>
#include <QTest>

namespace {

struct ModuleDescription
{
    QStringList directives; //!< normalised non-comment lines, in order
    QStringList types; //!< "Name 1.0" or "Name 1.0 uncreatable", sorted
};

QString normalised(const QString &line)
{
    return line.simplified();
}

//! A qmldir: directives are its non-comment lines; types come from "# type ..." comments.
ModuleDescription parseQmldir(const QString &text)
{
    static const QRegularExpression typeLine(
        QStringLiteral(R"(^#\s*type\s+(\S+)\s+(\S+)(\s+uncreatable)?\s*$)"));
    ModuleDescription d;
    for (const QString &raw : text.split(QLatin1Char('\n'))) {
        const QString line = normalised(raw);
        if (line.isEmpty())
            continue;
        if (line.startsWith(QLatin1Char('#'))) {
            if (const auto m = typeLine.match(line); m.hasMatch())
                d.types << (m.captured(1) + QLatin1Char(' ') + m.captured(2)
                    + (m.capturedLength(3) ? QStringLiteral(" uncreatable") : QString()));
            continue;
        }
        d.directives << line;
    }
    d.types.sort();
    return d;
}

//! The exported types of a .qmltypes file: each top-level Component's exports for \a uri.
QStringList parseQmltypes(const QString &text, const QString &uri)
{
    static const QRegularExpression component(
        QStringLiteral(R"(^    Component \{)"), QRegularExpression::MultilineOption);
    static const QRegularExpression exports(
        QStringLiteral(R"(^\s*exports:\s*\[(.*)\])"), QRegularExpression::MultilineOption);
    static const QRegularExpression uncreatable(
        QStringLiteral(R"(^\s*isCreatable:\s*false)"), QRegularExpression::MultilineOption);
    static const QRegularExpression entry(QStringLiteral("\"([^\"/]+)/(\\S+) (\\S+)\""));
    QStringList types;
    QList<qsizetype> starts;
    for (auto it = component.globalMatch(text); it.hasNext();)
        starts << it.next().capturedStart();
    starts << text.size();
    for (qsizetype i = 0; i + 1 < starts.size(); ++i) {
        const QString block = text.mid(starts[i], starts[i + 1] - starts[i]);
        const auto e = exports.match(block);
        if (!e.hasMatch())
            continue; // anonymous: not a QML type name
        const bool creatable = !uncreatable.match(block).hasMatch();
        for (auto it = entry.globalMatch(e.captured(1)); it.hasNext();) {
            const auto m = it.next();
            if (m.captured(1) == uri)
                types << (m.captured(2) + QLatin1Char(' ') + m.captured(3)
                    + (creatable ? QString() : QStringLiteral(" uncreatable")));
        }
    }
    types.sort();
    types.removeDuplicates();
    return types;
}

//! What differs between the root qmldir and the build's qmldir + qmltypes; empty: they agree.
QStringList disagreements(
    const QString &rootQmldir, const QString &builtQmldir, const QString &builtQmltypes)
{
    QStringList problems;
    const ModuleDescription root = parseQmldir(rootQmldir);
    const ModuleDescription built = parseQmldir(builtQmldir);
    if (root.directives != built.directives)
        problems << QStringLiteral("directives differ: root has [%1], the build wrote [%2]")
                        .arg(root.directives.join(QStringLiteral(" | ")),
                            built.directives.join(QStringLiteral(" | ")));
    QString uri;
    for (const QString &d : built.directives) {
        if (d.startsWith(QLatin1String("module ")))
            uri = d.mid(7);
    }
    if (uri.isEmpty())
        problems << QStringLiteral("the built qmldir has no module line");
    const QStringList registered = parseQmltypes(builtQmltypes, uri);
    if (registered.isEmpty())
        problems << QStringLiteral("the built qmltypes exports no type for %1").arg(uri);
    for (const QString &t : registered) {
        if (!root.types.contains(t))
            problems
                << QStringLiteral("registered but missing from the root qmldir: # type %1").arg(t);
    }
    for (const QString &t : root.types) {
        if (!registered.contains(t))
            problems << QStringLiteral("listed in the root qmldir but not registered: %1").arg(t);
    }
    return problems;
}

QString readAll(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(path));
    return QString::fromUtf8(f.readAll());
}

const QString builtDir = QStringLiteral(REQIVO_QML_IMPORT_DIR "/Reqivo");

} // namespace

class tst_QmlQmldir : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rootQmldirAgreesWithTheBuild()
    {
        const QStringList problems
            = disagreements(readAll(QStringLiteral(REQIVO_SOURCE_DIR "/qmldir")),
                readAll(builtDir + QStringLiteral("/qmldir")),
                readAll(builtDir + QStringLiteral("/reqivo.qmltypes")));
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
    }

    void pluginNamedInQmldirWasBuilt()
    {
        const ModuleDescription built = parseQmldir(readAll(builtDir + QStringLiteral("/qmldir")));
        QString plugin;
        for (const QString &d : built.directives) {
            const QStringList words = d.split(QLatin1Char(' '));
            if (words.contains(QLatin1String("plugin")))
                plugin = words.last();
        }
        QVERIFY(!plugin.isEmpty());
        QVERIFY2(QFileInfo::exists(builtDir + QStringLiteral("/lib%1.so").arg(plugin)),
            qPrintable(plugin));
    }

    void everyListedTypeResolvesInQml()
    {
        // The names in the root qmldir are the ones QML code can use.
        const ModuleDescription root
            = parseQmldir(readAll(QStringLiteral(REQIVO_SOURCE_DIR "/qmldir")));
        QByteArray qml = "import Reqivo\nQtObject {\n";
        for (qsizetype i = 0; i < root.types.size(); ++i)
            qml += "    property " + root.types[i].section(QLatin1Char(' '), 0, 0).toUtf8() + " p"
                + QByteArray::number(i) + "\n";
        qml += "}\n";
        QQmlEngine engine;
        engine.addImportPath(QStringLiteral(REQIVO_QML_IMPORT_DIR));
        QQmlComponent component(&engine);
        component.setData(
            qml, QUrl::fromLocalFile(QStringLiteral(REQIVO_QML_IMPORT_DIR "/types.qml")));
        std::unique_ptr<QObject> object(component.create());
        QVERIFY2(object, qPrintable(component.errorString()));
    }

    // --- the checker itself --------------------------------------------------------------------

    void checkerCatchesDisagreement_data()
    {
        const QString qmldir = QStringLiteral("module M\nplugin mp\ntypeinfo m.qmltypes\n");
        const QString types = QStringLiteral(
            "Module {\n"
            "    Component {\n        name: \"A\"\n        exports: [\"M/A 1.0\"]\n"
            "        Property { name: \"x\" }\n    }\n"
            "    Component {\n        name: \"B\"\n        exports: [\"M/B 1.0\"]\n"
            "        isCreatable: false\n    }\n"
            "    Component {\n        name: \"Anon\"\n    }\n"
            "}\n");
        QTest::addColumn<QString>("root");
        QTest::addColumn<QString>("built");
        QTest::addColumn<QString>("qmltypes");
        QTest::addColumn<bool>("agree");
        const QString good = qmldir + QStringLiteral("# type A 1.0\n# type B 1.0 uncreatable\n");
        QTest::newRow("same directives and types") << good << qmldir << types << true;
        QTest::newRow("comments and spacing do not matter")
            << QStringLiteral("# about\nmodule   M\n\nplugin mp\ntypeinfo m.qmltypes\n"
                              "#  type B 1.0 uncreatable\n# type A 1.0\n")
            << qmldir << types << true;
        QTest::newRow("type added without updating the root")
            << qmldir + QStringLiteral("# type A 1.0\n") << qmldir << types << false;
        QTest::newRow("type listed that is not registered")
            << good + QStringLiteral("# type C 1.0\n") << qmldir << types << false;
        QTest::newRow("creatability differs")
            << qmldir + QStringLiteral("# type A 1.0\n# type B 1.0\n") << qmldir << types << false;
        QTest::newRow("plugin renamed")
            << good << QString(qmldir).replace(QStringLiteral("mp"), QStringLiteral("mq")) << types
            << false;
        QTest::newRow("module renamed")
            << QString(good).replace(QStringLiteral("module M"), QStringLiteral("module N"))
            << qmldir << types << false;
        QTest::newRow("directive missing from the root")
            << good << qmldir + QStringLiteral("prefer :/M/\n") << types << false;
        QTest::newRow("nothing registered")
            << qmldir << qmldir << QStringLiteral("Module {\n}\n") << false;
    }
    void checkerCatchesDisagreement()
    {
        QFETCH(QString, root);
        QFETCH(QString, built);
        QFETCH(QString, qmltypes);
        QFETCH(bool, agree);
        const QStringList problems = disagreements(root, built, qmltypes);
        QVERIFY2(problems.isEmpty() == agree, qPrintable(problems.join(QLatin1Char('\n'))));
    }
};

QTEST_GUILESS_MAIN(tst_QmlQmldir)
#include "tst_qml_qmldir.moc"
