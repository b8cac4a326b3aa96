// Used only while the tree has no WebSocket player (src/testing/mockwebsocket*.cpp): the upgrade
// is answered 501 and the connection closed.
#include "mockserver_p.h"

#include <QTcpSocket>

namespace Reqivo::Testing::detail {

QObject *createWebSocketPlayer(MockServerCore &, QTcpSocket *socket, MockConnectionInfo,
                               RecordedRequest, MockResponse, QByteArray, QObject *parent)
{
    qWarning("MockServer: this build has no WebSocket player; the upgrade is refused");
    socket->setParent(parent);
    QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    socket->write("HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    socket->disconnectFromHost();
    return socket;
}

} // namespace Reqivo::Testing::detail
