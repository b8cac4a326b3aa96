// MultipartSource: see multipartsource_p.h.
#include "multipartsource_p.h"

#include <Reqivo/body.h>
#include <Reqivo/errors.h>

#include <QFileInfo>

namespace Reqivo::Client {

using namespace std::chrono;

namespace {

QString fileNameOf(const MultipartPart &part)
{
    return part.source == MultipartPart::Source::File ? part.path : part.fileName;
}

} // namespace

void checkBody(const Body &body, const QUrl &url)
{
    const Multipart *form = body.multipart();
    if (!form)
        return;
    const MultipartData &data = MultipartAccess::data(*form);
    if (!data.error.isEmpty())
        throw RequestError(data.error, url);
    for (const MultipartPart &part : data.parts) {
        if (part.source == MultipartPart::Source::File) {
            QFile file(part.path);
            if (!file.open(QIODevice::ReadOnly))
                throw RequestError(QStringLiteral("cannot read the file \"%1\"").arg(part.path),
                    url, file.errorString());
            if (file.size() != part.size)
                throw RequestError(QStringLiteral("the file \"%1\" is %2 bytes long, %3 when it "
                                                  "was added to the form")
                                       .arg(part.path)
                                       .arg(file.size())
                                       .arg(part.size),
                    url);
        } else if (part.source == MultipartPart::Source::Device) {
            if (!part.device)
                throw RequestError(QStringLiteral("a form's device was destroyed"), url);
        }
    }
}

MultipartSource::MultipartSource(const Multipart &form, QUrl url)
    : m_form(form)
    , m_data(MultipartAccess::data(m_form))
    , m_url(std::move(url))
{
}

MultipartSource::~MultipartSource() = default;

void MultipartSource::fail(const QString &message, const QString &detail) const
{
    throw RequestError(message, m_url, detail);
}

void MultipartSource::queue(QByteArray bytes)
{
    if (!bytes.isEmpty())
        m_queue.append(std::move(bytes));
}

// Queues the next part's delimiter and head (and its content when in memory), or the closing
// delimiter after the last part; a file is opened, a device rewound, for the reads that follow.
void MultipartSource::startPart()
{
    if (m_next == m_data.parts.size()) {
        queue(QByteArrayLiteral("--") + m_data.boundary + QByteArrayLiteral("--\r\n"));
        m_closed = true;
        return;
    }
    const MultipartPart &part = m_data.parts.at(m_next++);
    queue(QByteArrayLiteral("--") + m_data.boundary + QByteArrayLiteral("\r\n") + part.head);
    switch (part.source) {
    case MultipartPart::Source::Bytes:
        queue(part.bytes);
        queue(QByteArrayLiteral("\r\n"));
        return;
    case MultipartPart::Source::File: {
        m_file = std::make_unique<QFile>(part.path);
        if (!m_file->open(QIODevice::ReadOnly | QIODevice::Unbuffered))
            fail(QStringLiteral("cannot read the file \"%1\"").arg(part.path),
                m_file->errorString());
        if (m_file->size() != part.size)
            fail(QStringLiteral("the file \"%1\" is %2 bytes long, %3 when it was added to the "
                                "form")
                     .arg(part.path)
                     .arg(m_file->size())
                     .arg(part.size));
        break;
    }
    case MultipartPart::Source::Device: {
        QIODevice *device = part.device.data();
        if (!device)
            fail(QStringLiteral("a form's device was destroyed"));
        if (!part.sequential && !device->seek(part.start))
            fail(QStringLiteral("cannot rewind a form's device"));
        if (part.size == 0) {
            queue(QByteArrayLiteral("\r\n"));
            return;
        }
        m_device = std::make_unique<DeviceSource>(device);
        break;
    }
    }
    m_part = &part;
    m_left = part.size;
}

// Appends up to \a room bytes of the file; the file's last bytes only once it is known to end
// there.
void MultipartSource::readFile(QByteArray &out, qint64 room)
{
    const qint64 want = std::min(room, m_left);
    const qsizetype at = out.size();
    out.resize(at + want);
    qint64 got = 0;
    while (got < want) {
        const qint64 n = m_file->read(out.data() + at + got, want - got);
        if (n <= 0)
            fail(QStringLiteral("the file \"%1\" shrank while it was sent (%2 bytes missing)")
                     .arg(m_part->path)
                     .arg(m_left - got),
                n < 0 ? m_file->errorString() : QString());
        got += n;
    }
    m_left -= want;
    if (m_left == 0) {
        char extra;
        if (m_file->read(&extra, 1) != 0)
            fail(QStringLiteral("the file \"%1\" grew while it was sent").arg(m_part->path));
        m_file.reset();
        m_part = nullptr;
        queue(QByteArrayLiteral("\r\n"));
    }
}

QCoro::Task<QByteArray> MultipartSource::next(qint64 maxBytes, milliseconds timeout)
{
    // `this` is a local of the caller's frame, which awaits this call: it outlives it.
    QByteArray out;
    out.reserve(maxBytes);
    while (out.size() < maxBytes) {
        if (!m_queue.isEmpty()) {
            const QByteArray &front = m_queue.front();
            const qsizetype take = std::min<qint64>(maxBytes - out.size(), front.size() - m_offset);
            out.append(front.constData() + m_offset, take);
            m_offset += take;
            if (m_offset == front.size()) {
                m_queue.removeFirst();
                m_offset = 0;
            }
            continue;
        }
        if (m_file) {
            readFile(out, maxBytes - out.size());
            continue;
        }
        if (m_device) {
            if (!out.isEmpty())
                break; // what is ready goes now: the device may make the writer wait
            const qint64 want = m_left < 0 ? maxBytes : std::min(m_left, maxBytes);
            QByteArray block = co_await m_device->next(want, timeout, m_url);
            if (block.isEmpty()) {
                if (m_left > 0)
                    fail(QStringLiteral("the form's file \"%1\" ended %2 bytes early")
                             .arg(fileNameOf(*m_part))
                             .arg(m_left));
                m_device.reset();
                m_part = nullptr;
                queue(QByteArrayLiteral("\r\n"));
                continue;
            }
            if (m_left > 0) {
                m_left -= block.size();
                if (m_left == 0) {
                    // The device's part is complete: the next read starts the next part.
                    m_device.reset();
                    m_part = nullptr;
                    queue(QByteArrayLiteral("\r\n"));
                }
            }
            out.append(block);
            continue;
        }
        if (m_closed)
            break;
        startPart();
    }
    co_return out;
}

void MultipartSource::wake()
{
    if (m_device)
        m_device->wake();
}

} // namespace Reqivo::Client
