// Reqivo::WebSocketMessage: one received WebSocket message, or the end of the stream.
//
// receive() hands back a text message, a binary message, or — once the connection has closed
// cleanly and every earlier message was taken — an End carrying the close code and reason.
//
//   for (;;) {
//       const Reqivo::WebSocketMessage m = co_await socket.receive();
//       if (m.isEnd())
//           break;
//       handle(m.isText() ? m.text() : QString::fromUtf8(m.data()));
//   }
#pragma once

#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QDebug>
#include <QMetaType>
#include <QObject>
#include <QString>

namespace Reqivo {

//! One received WebSocket message, or the end of the stream.
//!
//! AsyncWebSocket::receive() hands back a text message, a binary message, or, once the
//! connection has closed cleanly and every earlier message was taken, an End carrying the
//! close code and reason.
class REQIVO_EXPORT WebSocketMessage
{
    Q_GADGET
    //! Text, binary or the end (type()).
    Q_PROPERTY(Type type READ type CONSTANT)
    //! The text (text()).
    Q_PROPERTY(QString text READ text CONSTANT)
    //! The bytes (data()).
    Q_PROPERTY(QByteArray data READ data CONSTANT)
    //! The close code of an End (closeCode()).
    Q_PROPERTY(int closeCode READ closeCode CONSTANT)
    //! The close reason of an End (closeReason()).
    Q_PROPERTY(QString closeReason READ closeReason CONSTANT)
public:
    //! What the message is.
    enum class Type {
        Text, //!< A text message (UTF-8 on the wire).
        Binary, //!< A binary message.
        End, //!< The connection closed cleanly; no more messages.
    };
    Q_ENUM(Type)

    //! An End with no close code.
    WebSocketMessage() = default;
    //! A text message.
    static WebSocketMessage fromText(QString text);
    //! A binary message.
    static WebSocketMessage fromBinary(QByteArray data);
    //! The end of the stream, with the close frame's code and reason.
    static WebSocketMessage end(int closeCode, QString closeReason);

    //! Text, binary or the end.
    Type type() const noexcept { return m_type; }
    //! True for a text message.
    bool isText() const noexcept { return m_type == Type::Text; }
    //! True for a binary message.
    bool isBinary() const noexcept { return m_type == Type::Binary; }
    //! True for the end of the stream.
    bool isEnd() const noexcept { return m_type == Type::End; }

    //! The text of a text message; for a binary message, its bytes read as UTF-8.
    QString text() const;
    //! The bytes of a binary message; for a text message, its UTF-8 encoding.
    QByteArray data() const;
    //! For End: the close code (1000 normal, 1001 going away, 3000–4999 application codes).
    int closeCode() const noexcept { return m_closeCode; }
    //! For End: the close reason the server gave (may be empty); empty for other messages.
    QString closeReason() const { return isEnd() ? m_text : QString(); }

    //! Equal when type, payload, close code and reason are.
    friend bool operator==(const WebSocketMessage &, const WebSocketMessage &) = default;

private:
    Type m_type = Type::End;
    int m_closeCode = 0;
    QString m_text; // text payload, or the close reason of an End
    QByteArray m_data;
};

//! Writes the message's type and size (for an End, its close code and reason).
REQIVO_EXPORT QDebug operator<<(QDebug debug, const WebSocketMessage &message);

} // namespace Reqivo

Q_DECLARE_METATYPE(Reqivo::WebSocketMessage)
