# Embeds the built web UI (web/dist) into the binary as a generated C++ source, so that one binary serves the UI
# with no files beside it. When web/dist has not been built, a small page says how to build it.
function(switchboard_embed_web out_var)
  set(dist_dir ${PROJECT_SOURCE_DIR}/web/dist)
  set(out_cpp ${CMAKE_BINARY_DIR}/generated/embedded_web.cpp)
  file(GLOB_RECURSE web_files CONFIGURE_DEPENDS ${dist_dir}/*)
  add_custom_command(
    OUTPUT ${out_cpp}
    COMMAND ${CMAKE_COMMAND} -DDIST_DIR=${dist_dir} -DOUT_CPP=${out_cpp}
            -P ${PROJECT_SOURCE_DIR}/cmake/GenerateEmbeddedWeb.cmake
    DEPENDS ${web_files} ${PROJECT_SOURCE_DIR}/cmake/GenerateEmbeddedWeb.cmake
    COMMENT "Embedding web UI from web/dist"
    VERBATIM)
  set(${out_var} ${out_cpp} PARENT_SCOPE)
endfunction()
