// Headers storage: one byte arena + an index of (offset, length) spans. Removing fields leaves
// garbage in the arena; it is reclaimed when garbage outgrows the live bytes.
#include <Reqivo/headers.h>

#include "bytes_p.h"

#include <QSharedData>
#include <QVarLengthArray>

#include <limits>

namespace Reqivo {

namespace {
struct Span
{
    qint32 nameOffset;
    qint32 nameLength;
    qint32 valueOffset;
    qint32 valueLength;
};

inline char asciiLower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }

inline bool isOws(char c) noexcept { return c == ' ' || c == '\t'; }

QByteArrayView trimmedOws(QByteArrayView v) noexcept
{
    while (!v.isEmpty() && isOws(v.front()))
        v = v.sliced(1);
    while (!v.isEmpty() && isOws(v.back()))
        v.chop(1);
    return v;
}
} // namespace

class HeadersData : public QSharedData
{
public:
    QByteArray arena;
    // 32 inline spans cover typical heads without a second allocation for the index.
    QVarLengthArray<Span, 32> spans;
    qsizetype liveBytes = 0;

    QByteArrayView name(const Span &s) const noexcept
    {
        return QByteArrayView(arena.constData() + s.nameOffset, s.nameLength);
    }
    QByteArrayView value(const Span &s) const noexcept
    {
        return QByteArrayView(arena.constData() + s.valueOffset, s.valueLength);
    }
    Span appendField(QByteArrayView n, QByteArrayView v)
    {
        // Appending may move the arena: views into it must be copied out first.
        const char *lo = arena.constData(), *hi = lo + arena.size();
        const auto inside = [&](QByteArrayView x) { return x.data() >= lo && x.data() < hi; };
        if ((!n.isEmpty() && inside(n)) || (!v.isEmpty() && inside(v))) {
            const QByteArray nc = n.toByteArray(), vc = v.toByteArray();
            return appendField(nc, vc);
        }
        Span s;
        s.nameOffset = qint32(arena.size());
        s.nameLength = qint32(n.size());
        s.valueOffset = qint32(arena.size() + n.size());
        s.valueLength = qint32(v.size());
        arena.resize(arena.size() + n.size() + v.size());
        Protocol::ByteWriter w(arena.data() + s.nameOffset);
        w.put(n);
        w.put(v);
        liveBytes += n.size() + v.size();
        return s;
    }
    void compactIfWasteful()
    {
        if (arena.size() < 1024 || arena.size() < 2 * liveBytes)
            return;
        QByteArray fresh;
        fresh.reserve(liveBytes);
        for (Span &s : spans) {
            const QByteArrayView n = name(s), v = value(s);
            s.nameOffset = qint32(fresh.size());
            Protocol::appendBytes(fresh, n);
            s.valueOffset = qint32(fresh.size());
            Protocol::appendBytes(fresh, v);
        }
        arena = std::move(fresh);
    }
};

Headers::Headers() noexcept = default;

HeadersData *Headers::mutableData()
{
    if (!d)
        d = new HeadersData;
    return d.data();
}

Headers::Headers(std::initializer_list<std::pair<QByteArrayView, QByteArrayView>> fields)
    : Headers()
{
    for (const auto &[n, v] : fields)
        add(n, v);
}

Headers::Headers(const Headers &other) = default;
Headers::Headers(Headers &&other) noexcept = default;
Headers &Headers::operator=(const Headers &other) = default;
Headers &Headers::operator=(Headers &&other) noexcept = default;
Headers::~Headers() = default;

bool Headers::nameEquals(QByteArrayView a, QByteArrayView b) noexcept
{
    if (a.size() != b.size())
        return false;
    const char *pa = a.data(), *pb = b.data();
    for (qsizetype i = 0, n = a.size(); i < n; ++i) {
        if (pa[i] != pb[i] && asciiLower(pa[i]) != asciiLower(pb[i]))
            return false;
    }
    return true;
}

qsizetype Headers::size() const noexcept { return d ? d->spans.size() : 0; }

Headers::Field Headers::at(qsizetype i) const noexcept
{
    Q_ASSERT(i >= 0 && i < d->spans.size());
    const Span &s = d->spans[i];
    return {d->name(s), d->value(s)};
}

bool Headers::contains(QByteArrayView name) const noexcept
{
    if (!d)
        return false;
    for (const Span &s : d->spans) {
        if (nameEquals(d->name(s), name))
            return true;
    }
    return false;
}

QByteArrayView Headers::value(QByteArrayView name, QByteArrayView defaultValue) const noexcept
{
    if (!d)
        return defaultValue;
    for (const Span &s : d->spans) {
        if (nameEquals(d->name(s), name))
            return d->value(s);
    }
    return defaultValue;
}

QList<QByteArray> Headers::values(QByteArrayView name) const
{
    QList<QByteArray> out;
    if (!d)
        return out;
    for (const Span &s : d->spans) {
        if (nameEquals(d->name(s), name))
            out.append(d->value(s).toByteArray());
    }
    return out;
}

QByteArray Headers::combinedValue(QByteArrayView name) const
{
    QByteArray out;
    if (!d)
        return out;
    bool first = true;
    for (const Span &s : d->spans) {
        if (!nameEquals(d->name(s), name))
            continue;
        if (!first)
            out.append(", ");
        out.append(d->value(s));
        first = false;
    }
    return out;
}

bool Headers::hasToken(QByteArrayView name, QByteArrayView token) const noexcept
{
    if (!d)
        return false;
    for (const Span &s : d->spans) {
        if (!nameEquals(d->name(s), name))
            continue;
        QByteArrayView rest = d->value(s);
        while (!rest.isEmpty()) {
            const qsizetype comma = rest.indexOf(',');
            const QByteArrayView item = trimmedOws(comma < 0 ? rest : rest.first(comma));
            if (nameEquals(item, token))
                return true;
            if (comma < 0)
                break;
            rest = rest.sliced(comma + 1);
        }
    }
    return false;
}

void Headers::add(QByteArrayView name, QByteArrayView value)
{
    HeadersData *x = mutableData();
    x->spans.append(x->appendField(name, value));
}

void Headers::set(QByteArrayView name, QByteArrayView value)
{
    HeadersData *x = mutableData();
    qsizetype keep = -1;
    for (qsizetype i = 0; i < x->spans.size(); ++i) {
        if (nameEquals(x->name(x->spans[i]), name)) {
            keep = i;
            break;
        }
    }
    if (keep < 0) {
        x->spans.append(x->appendField(name, value));
        return;
    }
    // Copy into the arena before dropping old spans: name/value may point into it, and after
    // this append they may dangle, so only the copy (fresh) is used from here on.
    const Span fresh = x->appendField(name, value);
    qsizetype out = 0;
    for (qsizetype i = 0; i < x->spans.size(); ++i) {
        const Span s = x->spans[i];
        if (i == keep) {
            x->liveBytes -= s.nameLength + s.valueLength;
            x->spans[out++] = fresh;
        } else if (i > keep && nameEquals(x->name(s), x->name(fresh))) {
            x->liveBytes -= s.nameLength + s.valueLength;
        } else {
            x->spans[out++] = s;
        }
    }
    x->spans.resize(out);
    x->compactIfWasteful();
}

qsizetype Headers::remove(QByteArrayView name)
{
    if (!contains(name))
        return 0;
    HeadersData *x = mutableData();
    qsizetype out = 0;
    const qsizetype before = x->spans.size();
    for (qsizetype i = 0; i < before; ++i) {
        const Span s = x->spans[i];
        if (nameEquals(x->name(s), name))
            x->liveBytes -= s.nameLength + s.valueLength;
        else
            x->spans[out++] = s;
    }
    x->spans.resize(out);
    x->compactIfWasteful();
    return before - out;
}

void Headers::append(const Headers &other)
{
    if (other.isEmpty())
        return;
    const Headers keepAlive = other; // other may be *this
    for (const Field f : keepAlive)
        add(f.name, f.value);
}

void Headers::clear()
{
    d.reset();
}

void Headers::reserve(qsizetype fieldCount, qsizetype bytes)
{
    HeadersData *x = mutableData();
    x->spans.reserve(fieldCount);
    x->arena.reserve(bytes);
}

QList<std::pair<QByteArray, QByteArray>> Headers::toList() const
{
    QList<std::pair<QByteArray, QByteArray>> out;
    out.reserve(size());
    for (const Field f : *this)
        out.append({f.name.toByteArray(), f.value.toByteArray()});
    return out;
}

bool operator==(const Headers &a, const Headers &b) noexcept
{
    if (a.size() != b.size())
        return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        const Headers::Field fa = a.at(i), fb = b.at(i);
        if (!Headers::nameEquals(fa.name, fb.name) || fa.value != fb.value)
            return false;
    }
    return true;
}

Headers Headers::fromArena(const QByteArray &arena, qsizetype expectedFields)
{
    Headers h;
    HeadersData *x = h.mutableData();
    x->arena = arena;
    if (expectedFields > 0)
        x->spans.reserve(expectedFields);
    return h;
}

void Headers::addSpan(qsizetype nameOffset, qsizetype nameLength, qsizetype valueOffset,
                      qsizetype valueLength)
{
    HeadersData *x = mutableData();
    Q_ASSERT(valueOffset + valueLength <= x->arena.size());
    // Spans are qint32: the parser clamps its section limits to ResponseParser::maxSectionLimit.
    Q_ASSERT(x->arena.size() <= std::numeric_limits<qint32>::max());
    x->spans.append(Span{qint32(nameOffset), qint32(nameLength), qint32(valueOffset),
                         qint32(valueLength)});
    x->liveBytes += nameLength + valueLength;
}

QDebug operator<<(QDebug debug, const Headers &headers)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "Reqivo::Headers(";
    bool first = true;
    for (const Headers::Field f : headers) {
        if (!first)
            debug << ", ";
        debug << f.name.toByteArray().constData() << ": " << f.value.toByteArray().constData();
        first = false;
    }
    debug << ')';
    return debug;
}

} // namespace Reqivo
