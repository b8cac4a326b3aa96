// The logging categories (logcategories_p.h).
#include "logcategories_p.h"

namespace Reqivo {

Q_LOGGING_CATEGORY(lcHttp, "reqivo.http", QtWarningMsg)
Q_LOGGING_CATEGORY(lcPool, "reqivo.pool", QtWarningMsg)
Q_LOGGING_CATEGORY(lcTls, "reqivo.tls", QtWarningMsg)
Q_LOGGING_CATEGORY(lcWs, "reqivo.ws", QtWarningMsg)

} // namespace Reqivo
