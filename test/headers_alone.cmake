# Compiles each public header alone (syntax only): every header includes what it uses.
# cmake -DINCLUDE_DIR= -DCXX= -DWORK= [-DWITH_GRPC=ON] -P
file(GLOB headers RELATIVE ${INCLUDE_DIR}
    ${INCLUDE_DIR}/asioctx.hpp ${INCLUDE_DIR}/asioctx/*.hpp ${INCLUDE_DIR}/asioctx/*/*.hpp)
if(NOT WITH_GRPC)
    list(FILTER headers EXCLUDE REGEX "^asioctx/grpc")
endif()
file(MAKE_DIRECTORY ${WORK})
set(failed "")
foreach(h IN LISTS headers)
    string(MAKE_C_IDENTIFIER ${h} name)
    set(tu ${WORK}/${name}.cpp)
    # Twice: the include guard must hold too.
    file(WRITE ${tu} "#include <${h}>\n#include <${h}>\n")
    execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only -Wall -Wextra -Werror -I${INCLUDE_DIR} ${tu}
        RESULT_VARIABLE rc ERROR_VARIABLE err)
    if(rc)
        message("${h}: does not compile alone\n${err}")
        list(APPEND failed ${h})
    endif()
endforeach()
list(LENGTH headers total)
if(failed)
    message(FATAL_ERROR "headers: ${failed} of ${total} do not compile alone")
endif()
message("headers: all ${total} compile alone")
