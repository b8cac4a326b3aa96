// Reqivo::Headers: HTTP fields as an implicitly shared value.
//
// Ordered, case-insensitive (ASCII) names, duplicates kept in arrival order: Set-Cookie is never
// comma-joined. All names and values live in one byte arena with an index of offsets beside it,
// so a parsed head becomes a Headers object with two allocations however many fields it has,
// and lookups return views into the arena instead of copies.
//
// Lifetime of the views: value(), at(), nameAt(), valueAt() and the iterator hand out
// QByteArrayView, which points into this Headers object's storage. A view stays valid while
// the Headers object it came from lives and is not modified; it dangles as soon as that object
// is destroyed, which for a temporary is the end of the full expression:
//
//   QByteArrayView bad = session.get(url).headers().value("Content-Type"); // dangles at ';'
//   QByteArray type = session.get(url).header("Content-Type");             // owns its bytes
//   std::optional<QByteArray> etag = response.headers().get("ETag");       // owns, or nullopt
//
// Keep a view only while you hold the Headers (or the Response) it came from; otherwise use
// get(), values(), combinedValue() or Response::header(), which return owning QByteArrays
// (copies of the field's bytes).
#pragma once

#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QByteArrayView>
#include <QDebug>
#include <QList>
#include <QMetaType>
#include <QSharedDataPointer>

#include <initializer_list>
#include <iterator>
#include <optional>
#include <utility>

namespace Reqivo {

class HeadersData;

//! HTTP header fields as an implicitly shared value.
//!
//! Ordered, with case-insensitive (ASCII) names, duplicates kept in arrival order: Set-Cookie
//! is never comma-joined. Lookups return views into the object's storage (value(), at(), the
//! iterator): a view is valid while this Headers object lives unmodified, so on a temporary
//! (`session.get(url).headers().value(...)`) it dangles at the end of the statement. get(),
//! values(), combinedValue() and Response::header() return owning copies.
//!
//!     Reqivo::Headers headers{{"Accept", "application/json"}};
//!     headers.add("Set-Cookie", "a=1");          // duplicates kept
//!     std::optional<QByteArray> accept = headers.get("accept");
class REQIVO_EXPORT Headers
{
public:
    //! One field. The views stay valid until the Headers object is modified or destroyed.
    struct Field
    {
        QByteArrayView name; //!< The field name, as given (compare with nameEquals()).
        QByteArrayView value; //!< The field value.
    };

    //! No fields (no allocation).
    Headers() noexcept;
    //! The given fields, in order: `Headers{{"Accept", "application/json"}}`.
    Headers(std::initializer_list<std::pair<QByteArrayView, QByteArrayView>> fields);
    //! Shares \a other's fields (copied on the first change).
    Headers(const Headers &other);
    //! Takes \a other's fields; \a other is left empty.
    Headers(Headers &&other) noexcept;
    //! Shares \a other's fields (copied on the first change).
    Headers &operator=(const Headers &other);
    //! Takes \a other's fields.
    Headers &operator=(Headers &&other) noexcept;
    ~Headers();
    //! Exchanges the fields of this and \a other.
    void swap(Headers &other) noexcept { d.swap(other.d); }

    //! The number of fields, duplicates counted.
    qsizetype size() const noexcept;
    //! True when there are no fields.
    bool isEmpty() const noexcept { return size() == 0; }
    //! Field \a i (0 <= i < size()), as views into this object.
    Field at(qsizetype i) const noexcept;
    //! at(i).name.
    QByteArrayView nameAt(qsizetype i) const noexcept { return at(i).name; }
    //! at(i).value.
    QByteArrayView valueAt(qsizetype i) const noexcept { return at(i).value; }

    //! True when a field named \a name (any case) is present.
    bool contains(QByteArrayView name) const noexcept;
    //! The first value of \a name, or \a defaultValue. A view into this object: see the lifetime
    //! note at the top of this file (get() returns an owning copy).
    QByteArrayView value(QByteArrayView name, QByteArrayView defaultValue = {}) const noexcept;
    //! The first value of \a name as an owning QByteArray, or std::nullopt when there is no
    //! field of that name (a field that is present with an empty value gives an empty array).
    std::optional<QByteArray> get(QByteArrayView name) const
    {
        for (const Field f : *this) {
            if (nameEquals(f.name, name))
                return f.value.toByteArray();
        }
        return std::nullopt;
    }
    //! Every value of \a name, in order.
    QList<QByteArray> values(QByteArrayView name) const;
    //! The values of \a name joined with ", " (RFC 9110 §5.3). Never use it for Set-Cookie.
    QByteArray combinedValue(QByteArrayView name) const;
    //! True when a comma-separated value of \a name equals \a token, ignoring case and OWS
    //! ("Connection: keep-alive, Upgrade" has token "upgrade").
    bool hasToken(QByteArrayView name, QByteArrayView token) const noexcept;

    //! Appends a field, keeping any existing ones of the same name.
    void add(QByteArrayView name, QByteArrayView value);
    //! Replaces every field named \a name by one field (at the first one's place, or appended).
    void set(QByteArrayView name, QByteArrayView value);
    //! Removes every field named \a name; returns how many were removed.
    qsizetype remove(QByteArrayView name);
    //! Adds every field of \a other, in order.
    void append(const Headers &other);
    //! Removes every field.
    void clear();
    //! Makes room for \a fieldCount fields of \a bytes name and value bytes in all.
    void reserve(qsizetype fieldCount, qsizetype bytes);

    //! Every field as owning (name, value) pairs, in order.
    QList<std::pair<QByteArray, QByteArray>> toList() const;

    //! Field-by-field equality: names compared case-insensitively, values and order exactly.
    friend REQIVO_EXPORT bool operator==(const Headers &a, const Headers &b) noexcept;

    //! Walks the fields in order: `for (const Reqivo::Headers::Field f : headers)`.
    class const_iterator
    {
    public:
        using iterator_category = std::forward_iterator_tag; //!< A forward iterator.
        using value_type = Field; //!< Fields, by value (two views).
        using difference_type = qsizetype; //!< A field index difference.
        using reference = Field; //!< operator*() returns a Field by value.
        using pointer = void; //!< No operator->().
        //! At field \a i of \a h (begin() and end() make them).
        const_iterator(const Headers *h, qsizetype i) : m_h(h), m_i(i) { }
        //! The field here.
        Field operator*() const noexcept { return m_h->at(m_i); }
        //! To the next field.
        const_iterator &operator++() noexcept { ++m_i; return *this; }
        //! Equal at the same field of the same Headers.
        friend bool operator==(const const_iterator &, const const_iterator &) = default;

    private:
        const Headers *m_h;
        qsizetype m_i;
    };
    //! The first field.
    const_iterator begin() const noexcept { return {this, 0}; }
    //! Past the last field.
    const_iterator end() const noexcept { return {this, size()}; }

    //! ASCII case-insensitive comparison of field names.
    static bool nameEquals(QByteArrayView a, QByteArrayView b) noexcept;

    // --- for the parser: build from an arena without copying each field -----------------------
    //! Starts a Headers whose arena is \a arena (shared, not copied). Fields are then added with
    //! addSpan() as offsets into it.
    static Headers fromArena(const QByteArray &arena, qsizetype expectedFields = 0);
    //! Adds the field whose name and value are at these offsets and lengths in the arena.
    void addSpan(qsizetype nameOffset, qsizetype nameLength, qsizetype valueOffset,
                 qsizetype valueLength);

private:
    HeadersData *mutableData(); // detaches, creating the data on first write
    // Null until the first field is added: empty Headers cost no allocation.
    QSharedDataPointer<HeadersData> d;
};

//! Writes the fields as name: value pairs, for qDebug().
REQIVO_EXPORT QDebug operator<<(QDebug debug, const Headers &headers);

} // namespace Reqivo

Q_DECLARE_SHARED(Reqivo::Headers)
Q_DECLARE_METATYPE(Reqivo::Headers)
