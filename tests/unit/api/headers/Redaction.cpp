#include <Reqivo/Redaction>

void useRedaction()
{
    const QString url = Reqivo::redactUrl(QUrl(QStringLiteral("https://h/?token=x")));
    const QByteArray value = Reqivo::redactFieldValue("Authorization", "Bearer x");
    const Reqivo::Headers fields = Reqivo::redactHeaders(Reqivo::Headers {{"Cookie", "a=1"}});
    const QStringList names = Reqivo::defaultRedactedQueryNames();
    Q_UNUSED(url);
    Q_UNUSED(value);
    Q_UNUSED(fields);
    Q_UNUSED(names);
}
