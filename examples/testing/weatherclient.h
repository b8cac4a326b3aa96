// WeatherClient: a small class of a user's application, the kind of code Reqivo::Testing is for.
// It asks a weather service for the current temperature of a city, over Reqivo's AsyncSession,
// and reports the result through a coroutine and through a signal.
#pragma once

#include <Reqivo/AsyncSession>

#include <QObject>
#include <QString>
#include <QUrl>

#include <optional>

class WeatherClient : public QObject
{
    Q_OBJECT
public:
    //! A client of the service at \a baseUrl (e.g. "https://api.example.com/v1/").
    explicit WeatherClient(const QUrl &baseUrl, QObject *parent = nullptr);

    //! Sends the API key as "Authorization: Bearer <key>".
    void setApiKey(const QString &key);
    //! Trusts \a options' CAs (a test trusts its MockServer's).
    void setTlsOptions(const Reqivo::TlsOptions &options);
    //! Gives up on an answer after \a timeout.
    void setTimeout(std::chrono::milliseconds timeout);

    //! The temperature in °C of \a city; std::nullopt when the service does not know it or
    //! cannot be reached (lastError() says why).
    QCoro::Task<std::optional<double>> temperature(QString city);
    //! The same, reported by temperatureReady() or failed().
    void requestTemperature(const QString &city);

    //! Why the last call failed, empty after a success.
    QString lastError() const { return m_lastError; }

Q_SIGNALS:
    //! requestTemperature() got \a celsius for \a city.
    void temperatureReady(const QString &city, double celsius);
    //! requestTemperature() failed for \a city.
    void failed(const QString &city, const QString &error);

private:
    Reqivo::AsyncSession m_session;
    QString m_lastError;
};
