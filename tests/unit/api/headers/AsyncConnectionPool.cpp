#include <Reqivo/AsyncConnectionPool>

QCoro::Task<void> useAsyncConnectionPool(Reqivo::AsyncConnectionPool &pool)
{
    try {
        Reqivo::ConnectionLease lease = co_await pool.acquire(
            Reqivo::Endpoint::fromUrl(QUrl()), std::chrono::seconds(1), std::chrono::seconds(1));
        co_await lease->write(QByteArray(), std::chrono::seconds(1));
        lease.recycle();
    } catch (const Reqivo::PoolTimeout &) {
    }
}
