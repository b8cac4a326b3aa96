#include <Reqivo/Multipart>

void useMultipart()
{
    Reqivo::Multipart form;
    form.addField(QStringLiteral("name"), QStringLiteral("value"));
    Q_UNUSED(form.size());
    Q_UNUSED(Reqivo::Multipart::escapeName(QStringLiteral("a\"b")).size());
}
