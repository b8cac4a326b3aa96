// ConnectionPool: a SharedConnectionStore and the options every attached pool uses.
#include <Reqivo/connectionpool.h>

#include "transport/sharedconnectionstore.h"

namespace Reqivo {

ConnectionPool::ConnectionPool(const PoolOptions &options)
    : m_options(options)
    , m_store(std::make_shared<Transport::SharedConnectionStore>())
{
}

ConnectionPool::~ConnectionPool()
{
    m_store->clear();
}

PoolOptions ConnectionPool::options() const { return m_options; }
int ConnectionPool::idleCount() const { return m_store->parkedCount(); }
QString ConnectionPool::debugSummary() const { return m_store->debugSummary(); }
void ConnectionPool::clear() { m_store->clear(); }

void ConnectionPool::attach(AsyncConnectionPool *pool) const
{
    pool->setOptions(m_options);
    pool->setSharedStore(m_store);
}

} // namespace Reqivo
