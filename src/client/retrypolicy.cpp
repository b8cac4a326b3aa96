// RetryPolicy's default classification (retrypolicy.h; the retry loop is retry.cpp).
#include <Reqivo/retrypolicy.h>

namespace Reqivo {

RetryDecision RetryPolicy::defaultDecision(const RetryAttempt &attempt) const
{
    if (attempt.error.isNull())
        return retryStatuses.contains(attempt.status) ? RetryDecision::Retry
                                                      : RetryDecision::Return;
    // The server may have acted on a request whose response had started.
    if (attempt.responseStarted)
        return RetryDecision::Return;
    switch (attempt.error.kind()) {
    case Error::Kind::ConnectTimeout:
    case Error::Kind::ReadTimeout:
    case Error::Kind::PoolTimeout:
        return RetryDecision::Retry;
    case Error::Kind::Network:
        switch (attempt.error.networkFailure()) {
        case Error::NetworkFailure::HostNotFound:
        case Error::NetworkFailure::TlsHandshake:
        case Error::NetworkFailure::ProxyAuthenticationRequired:
            return RetryDecision::Return;
        default:
            return RetryDecision::Retry;
        }
    default: // TLS failures, the total deadline, request errors, protocol errors
        return RetryDecision::Return;
    }
}

} // namespace Reqivo
