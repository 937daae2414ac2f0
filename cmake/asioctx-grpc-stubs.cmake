# asioctx_grpc_stubs(<target> <proto file> <output dir>): generates the C++ message and
# gRPC stubs of <proto file> with protoc and grpc_cpp_plugin into <output dir>, and adds
# them (sources and include directory) to <target>. For the gRPC layer's tests, example
# and benchmark.
find_package(Protobuf REQUIRED)
find_program(ASIOCTX_PROTOC protoc REQUIRED)
find_program(ASIOCTX_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

function(asioctx_grpc_stubs target proto out)
    get_filename_component(name ${proto} NAME_WE)
    get_filename_component(dir ${proto} DIRECTORY)
    file(MAKE_DIRECTORY ${out})
    set(generated ${out}/${name}.pb.cc ${out}/${name}.pb.h ${out}/${name}.grpc.pb.cc ${out}/${name}.grpc.pb.h)
    add_custom_command(
        OUTPUT ${generated}
        COMMAND ${ASIOCTX_PROTOC} -I${dir} --cpp_out=${out} --grpc_out=${out}
            --plugin=protoc-gen-grpc=${ASIOCTX_GRPC_CPP_PLUGIN} ${proto}
        DEPENDS ${proto})
    target_sources(${target} PRIVATE ${out}/${name}.pb.cc ${out}/${name}.grpc.pb.cc)
    target_include_directories(${target} PUBLIC ${out})
    target_link_libraries(${target} PUBLIC gRPC::grpc++ protobuf::libprotobuf)
endfunction()
