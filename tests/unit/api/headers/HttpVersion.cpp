#include <Reqivo/HttpVersion>

void useHttpVersion()
{
    const Reqivo::HttpVersion v = Reqivo::HttpVersion::Http2;
    Q_UNUSED(Reqivo::httpVersionName(v).size());
}
