#include "weatherclient.h"

#include <Reqivo/Errors>

#include <QJsonDocument>
#include <QJsonObject>

WeatherClient::WeatherClient(const QUrl &baseUrl, QObject *parent)
    : QObject(parent)
    , m_session(baseUrl)
{
    m_session.setDefaultHeader("Accept", "application/json");
}

void WeatherClient::setApiKey(const QString &key)
{
    m_session.setBearerToken(key);
}

void WeatherClient::setTlsOptions(const Reqivo::TlsOptions &options)
{
    m_session.setTlsOptions(options);
}

void WeatherClient::setTimeout(std::chrono::milliseconds timeout)
{
    m_session.setTimeout(Reqivo::Timeout::all(timeout));
}

QCoro::Task<std::optional<double>> WeatherClient::temperature(QString city)
{
    // The client outlives its calls (the test awaits each one), so `this` stays valid.
    Reqivo::RequestOptions options;
    options.queryItem(QStringLiteral("city"), city);
    try {
        const Reqivo::Response response
            = co_await m_session.get(QUrl(QStringLiteral("current")), options);
        if (response.status() == 404) {
            m_lastError = QStringLiteral("unknown city: %1").arg(city);
            co_return std::nullopt;
        }
        response.raiseForStatus();
        const QJsonObject json = QJsonDocument::fromJson(response.body()).object();
        if (!json.value(QStringLiteral("celsius")).isDouble()) {
            m_lastError = QStringLiteral("the service's answer has no temperature");
            co_return std::nullopt;
        }
        m_lastError.clear();
        co_return json.value(QStringLiteral("celsius")).toDouble();
    } catch (const Reqivo::ReqivoError &e) {
        m_lastError = e.message();
        co_return std::nullopt;
    }
}

void WeatherClient::requestTemperature(const QString &city)
{
    [](WeatherClient *self, QString city) -> QCoro::Task<> {
        const std::optional<double> celsius = co_await self->temperature(city);
        if (celsius)
            Q_EMIT self->temperatureReady(city, *celsius);
        else
            Q_EMIT self->failed(city, self->lastError());
    }(this, city);
}
