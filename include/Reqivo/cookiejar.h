// Reqivo::CookieJar: the session's RFC 6265 cookie store.
//
// Parsing and storage are Qt's (QNetworkCookie, QNetworkCookieJar); this class fills the gaps
// between QNetworkCookieJar and RFC 6265 that matter to an HTTP client:
//   - each Set-Cookie field is parsed on its own, never comma-joined (Expires contains a comma);
//   - the default path is the RFC 6265 §5.1.4 one ("/a/b" sets path "/a", not "/a/");
//   - a cookie whose expiry is now or earlier is never stored and never sent (Max-Age=0 deletes);
//   - replacing a cookie keeps its creation order, so the Cookie header order of §5.4
//     (longer paths first, then earlier creation) is stable;
//   - a Domain attribute is refused for an IP-address host unless it is that address, and a
//     Secure cookie is refused from an http:// response (RFC 6265bis §5.7 step 14);
//   - Secure cookies are only sent over https:// and wss://.
// A cookie without a Domain attribute is host-only (stored without a leading dot); Domain
// attributes naming a public suffix ("com", "co.uk") are refused, as QNetworkCookieJar does.
//
// The jar persists in the Netscape cookies.txt format that curl, wget and browser exporters use
// (loadFromFile(), saveToFile(), setAutoSaveFile()): a file is parsed whole before anything is
// stored (never a partial jar), written atomically with permissions 0600, and session cookies
// stay out of it unless asked for. docs/cookies.md describes the format and the rules.
//
// Nothing a server sends grows the jar without bound (RFC 6265 §6.1, RFC 6265bis §5.6): a cookie
// whose name and value exceed 4096 bytes is ignored, a Path or Domain attribute over 1024 bytes
// is ignored (not the cookie), and a domain keeps at most 50 cookies, the jar at most 3000 (both
// settable). Over a limit, the least recently used cookies go (RFC 6265 §5.3 step 12), expired
// ones before any other; sending a cookie uses it. A response's cookies are stored in one pass
// over the jar, so a server that sends thousands costs the jar linear time.
#pragma once

#include <Reqivo/headers.h>
#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QList>
#include <QNetworkCookie>
#include <QNetworkCookieJar>
#include <QString>
#include <QUrl>

#include <chrono>
#include <memory>

class QIODevice;

namespace Reqivo {

//! Why CookieJar::loadFromFile() or CookieJar::saveToFile() failed: what went wrong, in which
//! file and, for a malformed file, on which line. A default-constructed value is "no error".
struct REQIVO_EXPORT CookieFileError
{
    //! What went wrong.
    enum class Kind {
        NoError, //!< Nothing: the operation succeeded.
        FileNotFound, //!< loadFromFile(): the file does not exist (curl's -b: an empty jar).
        ReadFailed, //!< loadFromFile(): the file exists but cannot be read (permissions, ...).
        TooLarge, //!< loadFromFile(): longer than CookieJar::maxCookieFileBytes.
        Malformed, //!< loadFromFile(): a line is not a cookie line (line names it).
        WriteFailed, //!< saveToFile() or the autosave: the file was not replaced.
    };
    //! What went wrong; NoError when nothing did.
    Kind kind = Kind::NoError;
    //! The file's path, as given.
    QString fileName;
    //! The 1-based number of the offending line for Malformed; 0 otherwise.
    qsizetype line = 0;
    //! What went wrong, in words, without the file name (toString() adds it).
    QString message;

    //! True when this is an error (kind is not NoError).
    explicit operator bool() const noexcept { return kind != Kind::NoError; }
    //! "cookies.txt:3: expected 7 tab-separated fields, found 5", or "cookies.txt: ..." when
    //! no line is concerned; empty for NoError.
    QString toString() const;
};

//! The session's RFC 6265 cookie store (AsyncSession::cookieJar()).
//!
//! Parsing and storage are Qt's (QNetworkCookie, QNetworkCookieJar); this class adds what an
//! HTTP client needs of RFC 6265: each Set-Cookie field parsed on its own, the RFC's default
//! path, expired cookies never stored or sent, a stable Cookie header order, Secure cookies
//! only from and to https and wss, public-suffix and IP-address Domain attributes refused.
//! Nothing a server sends grows the jar without bound: oversized cookies and attributes are
//! ignored, and a domain (maxCookiesPerDomain()) and the jar (maxCookies()) keep a bounded
//! number, the least recently used going first. It also works as a QNetworkAccessManager's
//! jar.
class REQIVO_EXPORT CookieJar : public QNetworkCookieJar
{
    Q_OBJECT
public:
    //! RFC 6265bis §5.6: a cookie whose name and value together are longer is ignored whole.
    static constexpr qsizetype maxCookieBytes = 4096;
    //! RFC 6265bis §5.6: a longer Path or Domain attribute is ignored (not the cookie).
    static constexpr qsizetype maxAttributeBytes = 1024;
    //! RFC 6265 §6.1's minimums, as this jar's defaults.
    static constexpr int defaultMaxCookiesPerDomain = 50;
    //! RFC 6265 §6.1's minimum for the whole jar.
    static constexpr int defaultMaxCookies = 3000;

    //! An empty jar with the default limits.
    explicit CookieJar(QObject *parent = nullptr);
    ~CookieJar() override;

    //! Cookies kept per domain (host-only and Domain cookies of one domain together) and in
    //! total. Over a limit, the least recently used cookies go first (RFC 6265 §5.3 step 12;
    //! sending a cookie uses it). A value below 1 is taken as 1; lowering applies at once.
    void setMaxCookiesPerDomain(int count);
    //! The most cookies one domain keeps (defaultMaxCookiesPerDomain unless set).
    int maxCookiesPerDomain() const;
    //! The most cookies the jar keeps in total; see setMaxCookiesPerDomain().
    void setMaxCookies(int count);
    //! The most cookies the jar keeps in total (defaultMaxCookies unless set).
    int maxCookies() const;

    //! Stores the cookies of every Set-Cookie field of a response received from \a url.
    void storeFromResponse(const QUrl &url, const Headers &headers);
    //! The Cookie header value for a request to \a url ("a=1; b=2"), empty when none applies.
    QByteArray cookieHeaderFor(const QUrl &url) const;
    //! Every stored cookie that has not expired, in creation order.
    QList<QNetworkCookie> cookies() const;
    //! Stores \a cookie as if \a url had set it (host-only when it has no domain).
    //! Returns false when the cookie is refused, or when it is an expired one (a deletion).
    bool setCookie(const QNetworkCookie &cookie, const QUrl &url);
    //! Removes every cookie.
    void clear();
    //! Removes session cookies (those without an expiry), as at the end of a browser session.
    void clearSessionCookies();

    //! Writes the non-expired cookies to \a device, one Set-Cookie line each, in creation
    //! order, after a version line. Host-only and domain cookies are told apart on reload.
    bool saveTo(QIODevice *device) const;
    //! Adds the cookies saved by saveTo() (expired ones are skipped). False on a bad file.
    bool loadFrom(QIODevice *device);

    //! Whether saving writes session cookies (those without an expiry), with expiry 0.
    enum class SessionCookies {
        Skip, //!< Left out: a session ends with the program, as in a browser (the default).
        Keep, //!< Written with expiry 0, as curl's -c does, so a login carries over.
    };
    //! The largest cookies.txt file loadFromFile() reads (16 MiB).
    static constexpr qint64 maxCookieFileBytes = qint64(16) * 1024 * 1024;
    //! The longest line loadFromFile() accepts, line break excluded (8 KiB).
    static constexpr qsizetype maxCookieFileLineBytes = 8192;
    //! The autosave's default delay between a change and the write (autoSaveDelay()).
    static constexpr std::chrono::milliseconds defaultAutoSaveDelay {1000};

    //! Adds the cookies of the Netscape cookies.txt file at \a path (as curl's -c, wget's
    //! --save-cookies and browser exporters write it), replacing stored cookies of the same
    //! name, domain and path. The file is parsed whole first: on any error nothing is stored,
    //! false is returned and \a error (when given) tells the file, the line and what is wrong.
    //! Expired cookies are skipped; cookies with expiry 0 are loaded as session cookies; the
    //! jar's limits apply. A file that does not exist is an error of kind FileNotFound.
    bool loadFromFile(const QString &path, CookieFileError *error = nullptr);
    //! Writes the jar's non-expired cookies to \a path in the Netscape cookies.txt format, in
    //! creation order, session cookies only when \a sessionCookies is Keep. The file is
    //! replaced atomically (a new file with permissions 0600, renamed over the old one): on
    //! failure false is returned, \a error (when given) says why, and the old file is intact.
    //! Cookies the format cannot hold (a tab or a control character in a field) are left out.
    bool saveToFile(const QString &path, SessionCookies sessionCookies = SessionCookies::Skip,
        CookieFileError *error = nullptr) const;
    //! The text saveToFile() writes: the "# Netscape HTTP Cookie File" header and one line per
    //! cookie.
    QByteArray toNetscapeFormat(SessionCookies sessionCookies = SessionCookies::Skip) const;

    //! Saves the jar to \a path whenever it changes (an empty path stops it). Writes are
    //! coalesced: the first change after a write starts a single-shot timer of autoSaveDelay()
    //! in the jar's thread, and when it fires the jar is written as it is then, with every
    //! change made meanwhile (nothing is written when the text is the one last written). Pending
    //! changes are also written when the jar is destroyed and by flushAutoSave(); no event loop
    //! is spun. Setting a file writes nothing by itself (pending changes go to the previous
    //! file first); load the file first to continue from it. A failed write emits
    //! autoSaveFailed() and is tried again at the next change.
    void setAutoSaveFile(const QString &path, SessionCookies sessionCookies = SessionCookies::Skip);
    //! The autosave file; empty when the jar is not saved automatically.
    QString autoSaveFile() const;
    //! The delay between a change and the autosave's write (defaultAutoSaveDelay unless set;
    //! zero: at the event loop's next turn). A negative value is taken as zero.
    void setAutoSaveDelay(std::chrono::milliseconds delay);
    //! The delay between a change and the autosave's write.
    std::chrono::milliseconds autoSaveDelay() const;
    //! Writes pending changes to the autosave file now. True when there were none or they were
    //! written; false (and autoSaveFailed()) when the write failed.
    bool flushAutoSave();

    // QNetworkCookieJar overrides, so a CookieJar also works as a QNetworkAccessManager's jar.
    //! The cookies to send to \a url, in RFC 6265 §5.4 order (longer paths first, then older).
    QList<QNetworkCookie> cookiesForUrl(const QUrl &url) const override;
    //! Stores \a cookieList as if \a url had set them; true when any was stored.
    bool setCookiesFromUrl(const QList<QNetworkCookie> &cookieList, const QUrl &url) override;
    //! Stores \a cookie as given, within the jar's limits; true when it was stored.
    bool insertCookie(const QNetworkCookie &cookie) override;
    //! Removes the cookie with \a cookie's name, domain and path; true when there was one.
    bool deleteCookie(const QNetworkCookie &cookie) override;

Q_SIGNALS:
    //! The autosave could not write its file (the old file, if any, is intact): \a error says
    //! why. Not emitted for the write made by the destructor (that one logs a warning).
    void autoSaveFailed(const Reqivo::CookieFileError &error);

protected:
    //! The RFC 6265 checks of a cookie set by \a url (public suffixes, IP hosts, Secure over
    //! http), on top of QNetworkCookieJar's.
    bool validateCookie(const QNetworkCookie &cookie, const QUrl &url) const override;

private:
    struct Private;
    std::unique_ptr<Private> const d;
};

} // namespace Reqivo
