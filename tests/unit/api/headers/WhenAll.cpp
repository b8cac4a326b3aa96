#include <Reqivo/WhenAll>

QCoro::Task<int> one()
{
    co_return 1;
}

QCoro::Task<void> useWhenAll()
{
    std::vector<QCoro::Task<int>> tasks;
    tasks.push_back(one());
    const std::vector<int> all = co_await Reqivo::whenAll(std::move(tasks));
    Q_UNUSED(all);
}
