#include "progressbar.h"

#include <cstdio>
#include <unistd.h>

namespace ReqivoCli {

namespace {

constexpr qint64 redrawIntervalMs = 100; // ten frames a second is smooth and cheap
constexpr int barWidth = 30;

// "12.3 MiB"
void formatBytes(char *out, size_t size, double bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    while (bytes >= 1024.0 && unit < 4) {
        bytes /= 1024.0;
        ++unit;
    }
    std::snprintf(out, size, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
}

} // namespace

bool stderrIsTerminal()
{
    return ::isatty(STDERR_FILENO) == 1;
}

ProgressBar::ProgressBar(bool enabled)
    : m_enabled(enabled)
{
    m_started.start();
}

void ProgressBar::update(qint64 received, qint64 total)
{
    if (!m_enabled)
        return;
    const qint64 now = m_started.elapsed();
    if (m_lastDrawMs >= 0 && now - m_lastDrawMs < redrawIntervalMs)
        return;
    m_lastDrawMs = now;
    draw(received, total);
}

void ProgressBar::finish(qint64 received, qint64 total)
{
    if (!m_enabled)
        return;
    draw(received, total);
    std::fputc('\n', stderr);
    std::fflush(stderr);
}

void ProgressBar::draw(qint64 received, qint64 total)
{
    const double seconds = qMax<qint64>(m_started.elapsed(), 1) / 1000.0;
    char done[32], all[32], rate[32];
    formatBytes(done, sizeof done, double(received));
    formatBytes(rate, sizeof rate, double(received) / seconds);
    if (total > 0) {
        const double fraction = qBound(0.0, double(received) / double(total), 1.0);
        const int filled = int(fraction * barWidth);
        char bar[barWidth + 1];
        for (int i = 0; i < barWidth; ++i)
            bar[i] = i < filled ? '#' : ' ';
        bar[barWidth] = '\0';
        formatBytes(all, sizeof all, double(total));
        std::fprintf(
            stderr, "\r[%s] %3d%%  %s / %s  %s/s   ", bar, int(fraction * 100), done, all, rate);
    } else {
        std::fprintf(stderr, "\r%s  %s/s   ", done, rate);
    }
    std::fflush(stderr);
}

} // namespace ReqivoCli
