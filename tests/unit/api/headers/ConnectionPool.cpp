#include <Reqivo/ConnectionPool>

void useConnectionPool(const Reqivo::ConnectionPool &pool)
{
    const Reqivo::PoolOptions o = pool.options();
    Q_UNUSED(o.maxIdleTime.count());
    Q_UNUSED(pool.debugSummary().size());
}
