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

class REQIVO_EXPORT WebSocketMessage
{
    Q_GADGET
    Q_PROPERTY(Type type READ type CONSTANT)
    Q_PROPERTY(QString text READ text CONSTANT)
    Q_PROPERTY(QByteArray data READ data CONSTANT)
    Q_PROPERTY(int closeCode READ closeCode CONSTANT)
    Q_PROPERTY(QString closeReason READ closeReason CONSTANT)
public:
    enum class Type { Text, Binary, End };
    Q_ENUM(Type)

    //! An End with no close code.
    WebSocketMessage() = default;
    static WebSocketMessage fromText(QString text);
    static WebSocketMessage fromBinary(QByteArray data);
    static WebSocketMessage end(int closeCode, QString closeReason);

    Type type() const noexcept { return m_type; }
    bool isText() const noexcept { return m_type == Type::Text; }
    bool isBinary() const noexcept { return m_type == Type::Binary; }
    bool isEnd() const noexcept { return m_type == Type::End; }

    //! The text of a text message; for a binary message, its bytes read as UTF-8.
    QString text() const;
    //! The bytes of a binary message; for a text message, its UTF-8 encoding.
    QByteArray data() const;
    //! For End: the close code (1000 normal, 1001 going away, 3000–4999 application codes).
    int closeCode() const noexcept { return m_closeCode; }
    QString closeReason() const { return isEnd() ? m_text : QString(); }

    friend bool operator==(const WebSocketMessage &, const WebSocketMessage &) = default;

private:
    Type m_type = Type::End;
    int m_closeCode = 0;
    QString m_text; // text payload, or the close reason of an End
    QByteArray m_data;
};

REQIVO_EXPORT QDebug operator<<(QDebug debug, const WebSocketMessage &message);

} // namespace Reqivo

Q_DECLARE_METATYPE(Reqivo::WebSocketMessage)
