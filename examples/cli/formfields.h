// -F: multipart/form-data fields as curl spells them.
//
//   -F 'name=value'                          a text field (no Content-Type)
//   -F 'name=@path[;type=TYPE][;filename=N]' a file, streamed while sending; its Content-Type
//                                            from QMimeDatabase unless ;type= gives one
//
// A path or parameter value may be double-quoted (with \" and \\ inside) to hold ';' or '"'.
// A file that cannot be read is bad usage: the command exits 2 naming it, before any request.
#pragma once

#include <Reqivo/multipart.h>

#include <QString>
#include <QStringList>

#include <optional>

namespace ReqivoCli {

//! The form made of every -F value in order, or nothing with \a error set.
std::optional<Reqivo::Multipart> parseFormFields(const QStringList &values, QString *error);

} // namespace ReqivoCli
