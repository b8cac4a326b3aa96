// WebSocketMessage: a received message or the end of the stream, as a small value.
#include <Reqivo/websocketmessage.h>

namespace Reqivo {

WebSocketMessage WebSocketMessage::fromText(QString text)
{
    WebSocketMessage m;
    m.m_type = Type::Text;
    m.m_text = std::move(text);
    return m;
}

WebSocketMessage WebSocketMessage::fromBinary(QByteArray data)
{
    WebSocketMessage m;
    m.m_type = Type::Binary;
    m.m_data = std::move(data);
    return m;
}

WebSocketMessage WebSocketMessage::end(int closeCode, QString closeReason)
{
    WebSocketMessage m;
    m.m_closeCode = closeCode;
    m.m_text = std::move(closeReason);
    return m;
}

QString WebSocketMessage::text() const
{
    switch (m_type) {
    case Type::Text:
        return m_text;
    case Type::Binary:
        return QString::fromUtf8(m_data);
    case Type::End:
        break;
    }
    return {};
}

QByteArray WebSocketMessage::data() const
{
    switch (m_type) {
    case Type::Text:
        return m_text.toUtf8();
    case Type::Binary:
        return m_data;
    case Type::End:
        break;
    }
    return {};
}

QDebug operator<<(QDebug debug, const WebSocketMessage &message)
{
    const QDebugStateSaver saver(debug);
    debug.nospace() << "WebSocketMessage(";
    switch (message.type()) {
    case WebSocketMessage::Type::Text:
        debug << "text, " << message.text().size() << " chars";
        break;
    case WebSocketMessage::Type::Binary:
        debug << "binary, " << message.data().size() << " bytes";
        break;
    case WebSocketMessage::Type::End:
        debug << "end, " << message.closeCode() << ' ' << message.closeReason();
        break;
    }
    debug << ')';
    return debug;
}

} // namespace Reqivo
