// Used only while the tree has no HTTP/2 handler (src/testing/mockhttp2*.cpp): an HTTP/2
// connection is closed at once.
#include "mockserver_p.h"

#include <QTcpSocket>

namespace Reqivo::Testing::detail {

QObject *createHttp2Handler(MockServerCore &, QTcpSocket *socket, MockConnectionInfo,
                            QByteArray, QObject *parent)
{
    qWarning("MockServer: this build has no HTTP/2 handler; the connection is closed");
    socket->setParent(parent);
    socket->abort();
    socket->deleteLater();
    return socket;
}

} // namespace Reqivo::Testing::detail
