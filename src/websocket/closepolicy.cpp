// Close-code tables (RFC 6455 §7.4) and the reconnect decision.
#include "closepolicy_p.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace Reqivo {

ReconnectPolicy::ms ReconnectPolicy::delayFor(int attempt) const noexcept
{
    // The longest delay: an int of milliseconds (about 24.8 days), what a QTimer and the
    // reconnecting(int attempt, int delayMs) signal carry. Clamped as a double, before any
    // conversion: casting a double beyond the target's range is undefined behaviour.
    constexpr double ceiling = double(std::numeric_limits<int>::max());
    if (attempt < 1)
        attempt = 1;
    const double base = double(std::max<ms::rep>(initialDelay.count(), 0));
    const double cap = std::min(double(std::max<ms::rep>(maxDelay.count(), 0)), ceiling);
    if (base == 0)
        return ms(0); // and never 0 × infinity, which is NaN
    const double growth = multiplier >= 1.0 ? multiplier : 1.0; // also NaN: no growth
    double value = base * std::pow(growth, attempt - 1); // may be +infinity, never NaN
    if (cap > 0 && value > cap)
        value = cap;
    if (value > ceiling)
        value = ceiling;
    return ms(static_cast<ms::rep>(value));
}

namespace WebSocketDetail {

bool isCleanCloseCode(int code) noexcept
{
    // 1005: the peer's Close carried no code; the close handshake itself completed.
    return code == 1000 || code == 1001 || code == 1005 || (code >= 3000 && code <= 4999);
}

bool isValidUserCloseCode(int code) noexcept
{
    return code == 1000 || code == 1001 || (code >= 3000 && code <= 4999);
}

bool shouldReconnect(Ending ending, int closeCode, int httpStatus) noexcept
{
    switch (ending) {
    case Ending::CloseCode:
        // 1001 going away, 1006 dropped, 1012 service restart, 1013 try again later: the peer
        // (or the network) will likely be back. 1000 and the application codes are decisions;
        // 1002/1003/1007–1011 mean a retry would fail the same way.
        return closeCode == 1001 || closeCode == 1006 || closeCode == 1012 || closeCode == 1013;
    case Ending::HeartbeatLost:
    case Ending::ConnectFailed:
    case Ending::ConnectTimedOut:
        return true;
    case Ending::HandshakeRefused:
        // Only a 5xx may pass later. 4xx: the request itself is wrong (auth, path, version);
        // 3xx is not followed; 0: the answer was not a valid upgrade at all.
        return httpStatus >= 500;
    case Ending::SubprotocolRefused:
    case Ending::TlsFailed:
    case Ending::Invalid:
        return false;
    }
    return false;
}

std::chrono::milliseconds applyJitter(
    std::chrono::milliseconds delay, double jitter, double unit) noexcept
{
    jitter = std::clamp(jitter, 0.0, 1.0);
    unit = std::clamp(unit, 0.0, 1.0);
    const double value = double(delay.count()) * (1.0 - jitter * unit);
    return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(value));
}

QString closeCodeName(int code)
{
    const char *name = nullptr;
    switch (code) {
    case 1000:
        name = "normal closure";
        break;
    case 1001:
        name = "going away";
        break;
    case 1002:
        name = "protocol error";
        break;
    case 1003:
        name = "unsupported data";
        break;
    case 1005:
        name = "no status code";
        break;
    case 1006:
        name = "abnormal closure";
        break;
    case 1007:
        name = "invalid payload data";
        break;
    case 1008:
        name = "policy violation";
        break;
    case 1009:
        name = "message too big";
        break;
    case 1010:
        name = "mandatory extension";
        break;
    case 1011:
        name = "internal error";
        break;
    case 1012:
        name = "service restart";
        break;
    case 1013:
        name = "try again later";
        break;
    case 1014:
        name = "bad gateway";
        break;
    case 1015:
        name = "TLS handshake failure";
        break;
    default:
        break;
    }
    if (name)
        return QStringLiteral("%1 %2").arg(code).arg(QLatin1String(name));
    if (code >= 3000 && code <= 4999)
        return QStringLiteral("%1 (application)").arg(code);
    return QString::number(code);
}

} // namespace WebSocketDetail
} // namespace Reqivo
