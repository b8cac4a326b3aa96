// Reqivo::Multipart: the builder. Each part's head is encoded when the part is added, so that
// size() is arithmetic and sending only copies bytes; files and devices are only measured here.
#include "multipart_p.h"

#include <QFileInfo>
#include <QMimeDatabase>
#include <QRandomGenerator>

namespace Reqivo {

namespace {

// "--" boundary CRLF before each part, CRLF after its content, "--" boundary "--" CRLF at the
// end (RFC 2046 §5.1.1; the CRLF before each delimiter belongs to the delimiter).
constexpr qint64 delimiterExtra = 2 + 2; // "--" and CRLF around the boundary
constexpr qint64 partTrailer = 2; // the CRLF after a part's content
constexpr qint64 closeExtra = 2 + 2 + 2; // "--" boundary "--" CRLF

QByteArray randomBoundary()
{
    // 32 characters of 62: 190 bits, so that a file's content cannot be expected to hold it.
    static constexpr char alphabet[]
        = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    QByteArray boundary = QByteArrayLiteral("----ReqivoFormBoundary");
    QRandomGenerator *random = QRandomGenerator::system();
    for (int i = 0; i < 32; ++i)
        boundary += alphabet[random->bounded(int(sizeof alphabet - 1))];
    return boundary;
}

bool validBoundary(const QByteArray &boundary)
{
    // RFC 2046 §5.1.1 bchars.
    if (boundary.isEmpty() || boundary.size() > 70 || boundary.endsWith(' '))
        return false;
    for (const char c : boundary) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || QByteArrayView("'()+_,-./:=? ").contains(c);
        if (!ok)
            return false;
    }
    return true;
}

bool containsBoundary(const MultipartPart &part, const QByteArray &boundary)
{
    return part.head.contains(boundary) || part.bytes.contains(boundary);
}

QByteArray mimeName(const QMimeType &type)
{
    return type.isValid() ? type.name().toUtf8() : QByteArrayLiteral("application/octet-stream");
}

} // namespace

Multipart::Multipart()
    : d(new MultipartData)
{
    d->boundary = randomBoundary();
}

Multipart::Multipart(const Multipart &other) = default;
Multipart::Multipart(Multipart &&other) noexcept = default;
Multipart &Multipart::operator=(const Multipart &other) = default;
Multipart &Multipart::operator=(Multipart &&other) noexcept = default;
Multipart::~Multipart() = default;

QByteArray Multipart::escapeName(const QString &name)
{
    // As browsers do (HTML's multipart/form-data encoding algorithm): '%' itself stays as it is.
    QByteArray out = name.toUtf8();
    out.replace('"', "%22");
    out.replace('\r', "%0D");
    out.replace('\n', "%0A");
    return out;
}

namespace {

QByteArray partHead(const QString &name, const QString *fileName, const QByteArray &contentType)
{
    QByteArray head = QByteArrayLiteral("Content-Disposition: form-data; name=\"")
        + Multipart::escapeName(name) + '"';
    if (fileName)
        head += QByteArrayLiteral("; filename=\"") + Multipart::escapeName(*fileName) + '"';
    head += "\r\n";
    if (!contentType.isEmpty())
        head += QByteArrayLiteral("Content-Type: ") + contentType + "\r\n";
    head += "\r\n";
    return head;
}

} // namespace

// Adds \a part, keeping the boundary out of every in-memory byte: a random boundary is drawn
// again; one the caller set makes the form unsendable.
static void addPart(MultipartData &data, MultipartPart part, const QByteArray &contentType)
{
    if (contentType.contains('\r') || contentType.contains('\n') || contentType.contains('\0')) {
        if (data.error.isEmpty())
            data.error = QStringLiteral("a part's Content-Type contains a line break");
    }
    if (containsBoundary(part, data.boundary)) {
        if (data.boundarySet) {
            if (data.error.isEmpty())
                data.error = QStringLiteral("a part contains the form's boundary");
        } else {
            bool clash = true;
            while (clash) {
                data.boundary = randomBoundary();
                clash = containsBoundary(part, data.boundary);
                for (const MultipartPart &p : std::as_const(data.parts))
                    clash = clash || containsBoundary(p, data.boundary);
            }
        }
    }
    data.parts.append(std::move(part));
}

Multipart &Multipart::addField(const QString &name, const QString &value)
{
    return addField(name, value.toUtf8(), QByteArray());
}

Multipart &Multipart::addField(const QString &name, QByteArray value, QByteArray contentType)
{
    MultipartPart part;
    part.head = partHead(name, nullptr, contentType);
    part.size = value.size();
    part.bytes = std::move(value);
    addPart(*d, std::move(part), contentType);
    return *this;
}

Multipart &Multipart::addFile(
    const QString &name, const QString &filePath, QByteArray contentType, QString fileName)
{
    const QFileInfo info(filePath);
    if (fileName.isEmpty())
        fileName = info.fileName();
    MultipartPart part;
    part.source = MultipartPart::Source::File;
    part.path = info.absoluteFilePath(); // the file the caller meant, wherever the cwd goes
    QString problem;
    if (!info.exists())
        problem = QStringLiteral("no such file");
    else if (!info.isFile())
        problem = QStringLiteral("not a regular file");
    else if (!info.isReadable())
        problem = QStringLiteral("permission denied");
    if (problem.isEmpty()) {
        part.size = info.size();
        if (contentType.isEmpty())
            contentType = mimeName(QMimeDatabase().mimeTypeForFile(info));
    } else {
        if (d->error.isEmpty())
            d->error = QStringLiteral("cannot read the file \"%1\": %2").arg(filePath, problem);
        part.size = 0;
    }
    part.head = partHead(name, &fileName, contentType);
    addPart(*d, std::move(part), contentType);
    return *this;
}

Multipart &Multipart::addFile(const QString &name, QIODevice *device, const QString &fileName,
    QByteArray contentType, qint64 size)
{
    MultipartPart part;
    part.source = MultipartPart::Source::Device;
    part.device = device;
    part.fileName = fileName;
    if (!device) {
        if (d->error.isEmpty())
            d->error = QStringLiteral("the file \"%1\" has no device").arg(fileName);
        part.size = 0;
    } else if (device->isSequential()) {
        part.sequential = true;
        part.size = size >= 0 ? size : -1;
        if (contentType.isEmpty())
            contentType = mimeName(
                QMimeDatabase().mimeTypeForFile(fileName, QMimeDatabase::MatchExtension));
    } else {
        part.start = device->pos();
        part.size = size >= 0 ? size : qMax<qint64>(0, device->size() - device->pos());
        if (contentType.isEmpty()) {
            contentType = mimeName(QMimeDatabase().mimeTypeForFileNameAndData(fileName, device));
            device->seek(part.start); // the content sniffing must not move the start
        }
    }
    part.head = partHead(name, &fileName, contentType);
    addPart(*d, std::move(part), contentType);
    return *this;
}

Multipart &Multipart::addBytes(
    const QString &name, QByteArray bytes, const QString &fileName, QByteArray contentType)
{
    if (contentType.isEmpty())
        contentType = mimeName(QMimeDatabase().mimeTypeForFileNameAndData(fileName, bytes));
    MultipartPart part;
    part.head = partHead(name, &fileName, contentType);
    part.size = bytes.size();
    part.bytes = std::move(bytes);
    addPart(*d, std::move(part), contentType);
    return *this;
}

QByteArray Multipart::boundary() const
{
    return d->boundary;
}

bool Multipart::setBoundary(const QByteArray &boundary)
{
    if (!validBoundary(boundary))
        return false;
    for (const MultipartPart &part : std::as_const(d->parts)) {
        if (containsBoundary(part, boundary))
            return false;
    }
    d->boundary = boundary;
    d->boundarySet = true;
    return true;
}

QByteArray Multipart::contentType() const
{
    return QByteArrayLiteral("multipart/form-data; boundary=") + d->boundary;
}

qsizetype Multipart::count() const
{
    return d->parts.size();
}

bool Multipart::isEmpty() const
{
    return d->parts.isEmpty();
}

qint64 Multipart::size() const
{
    const qint64 boundary = d->boundary.size();
    qint64 total = boundary + closeExtra;
    for (const MultipartPart &part : std::as_const(d->parts)) {
        if (part.size < 0)
            return -1;
        total += boundary + delimiterExtra + part.head.size() + part.size + partTrailer;
    }
    return total;
}

bool Multipart::isReplayable() const
{
    for (const MultipartPart &part : std::as_const(d->parts)) {
        if (part.source == MultipartPart::Source::Device && (part.sequential || !part.device))
            return false;
    }
    return true;
}

QString Multipart::errorString() const
{
    return d->error;
}

} // namespace Reqivo
