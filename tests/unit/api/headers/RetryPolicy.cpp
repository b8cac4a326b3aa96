#include <Reqivo/RetryPolicy>

void useRetryPolicy()
{
    Reqivo::RetryPolicy policy = Reqivo::RetryPolicy::attempts(3);
    policy.classifier = [](const Reqivo::RetryAttempt &a) {
        return a.status == 503 ? Reqivo::RetryDecision::Retry : Reqivo::RetryDecision::Return;
    };
    Q_UNUSED(policy.decide(Reqivo::RetryAttempt{}));
}
