#include <Reqivo/Authenticator>

void useAuthenticator()
{
    const Reqivo::Authenticator f = [](Reqivo::AuthRequest r) -> QCoro::Task<Reqivo::AuthAnswer> {
        if (r.challenges.isEmpty() || !r.challenges.first().isScheme("Bearer"))
            co_return Reqivo::AuthAnswer::decline();
        co_return Reqivo::AuthAnswer::with(Reqivo::Credentials::bearer(QStringLiteral("t")));
    };
    Q_UNUSED(f);
}
