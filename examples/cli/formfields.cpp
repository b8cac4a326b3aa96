// -F: see formfields.h. The parsing follows curl's formparse.c: the value after '@' runs to the
// first ';', unless it is quoted; each "; param=value" after it is type= or filename=.
#include "formfields.h"

#include <QFile>
#include <QFileInfo>

using namespace Qt::StringLiterals;

namespace ReqivoCli {

namespace {

// Reads a word starting at \a at: a double-quoted string (\" and \\ escaped) or everything up to
// the next ';'. Moves \a at past it. Returns nothing for an unterminated quote.
std::optional<QString> word(const QString &text, qsizetype &at)
{
    if (at < text.size() && text.at(at) == u'"') {
        QString out;
        for (++at; at < text.size(); ++at) {
            const QChar c = text.at(at);
            if (c == u'\\' && at + 1 < text.size()) {
                out += text.at(++at);
            } else if (c == u'"') {
                ++at;
                return out;
            } else {
                out += c;
            }
        }
        return std::nullopt;
    }
    const qsizetype end = text.indexOf(u';', at);
    const QString out = text.mid(at, end < 0 ? -1 : end - at);
    at = end < 0 ? text.size() : end;
    return out;
}

} // namespace

std::optional<Reqivo::Multipart> parseFormFields(const QStringList &values, QString *error)
{
    Reqivo::Multipart form;
    for (const QString &value : values) {
        const qsizetype equals = value.indexOf(u'=');
        if (equals <= 0) {
            *error = u"bad -F '%1': expected name=value or name=@file"_s.arg(value);
            return std::nullopt;
        }
        const QString name = value.left(equals);
        if (!value.mid(equals + 1).startsWith(u'@')) {
            form.addField(name, value.mid(equals + 1));
            continue;
        }

        qsizetype at = equals + 2;
        const std::optional<QString> path = word(value, at);
        if (!path || path->isEmpty()) {
            *error = u"bad -F '%1': no file name after '@'"_s.arg(value);
            return std::nullopt;
        }
        QByteArray type;
        QString fileName;
        while (at < value.size()) {
            // at is on a ';'
            ++at;
            while (at < value.size() && value.at(at).isSpace())
                ++at;
            const qsizetype eq = value.indexOf(u'=', at);
            const QString key = eq < 0 ? value.mid(at) : value.mid(at, eq - at);
            if (eq < 0 || (key != u"type"_s && key != u"filename"_s)) {
                *error
                    = u"bad -F '%1': unknown parameter '%2' (type= and filename= are known)"_s.arg(
                        value, key);
                return std::nullopt;
            }
            at = eq + 1;
            const std::optional<QString> param = word(value, at);
            if (!param) {
                *error = u"bad -F '%1': unterminated quote"_s.arg(value);
                return std::nullopt;
            }
            if (key == u"type"_s)
                type = param->toUtf8();
            else
                fileName = *param;
        }
        if (type.contains('\r') || type.contains('\n')) {
            *error = u"bad -F '%1': a line break in type="_s.arg(value);
            return std::nullopt;
        }

        QFile file(*path);
        if (!QFileInfo(*path).isFile() || !file.open(QIODevice::ReadOnly)) {
            const QString why = QFileInfo::exists(*path) && file.error() != QFileDevice::NoError
                ? file.errorString()
                : (QFileInfo::exists(*path) ? u"not a regular file"_s
                                            : u"No such file or directory"_s);
            *error = u"-F: cannot read %1: %2"_s.arg(*path, why);
            return std::nullopt;
        }
        file.close();
        form.addFile(name, *path, type, fileName);
        if (!form.errorString().isEmpty()) {
            *error = u"-F: "_s + form.errorString();
            return std::nullopt;
        }
    }
    return form;
}

} // namespace ReqivoCli
