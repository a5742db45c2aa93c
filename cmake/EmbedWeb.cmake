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

# The seeded accounts and personas (config/users.json, config/personas.json), embedded the same way: data.users_file
# and data.personas_file left empty mean these copies.
function(switchboard_embed_seed out_var)
  set(users ${PROJECT_SOURCE_DIR}/config/users.json)
  set(personas ${PROJECT_SOURCE_DIR}/config/personas.json)
  set(out_cpp ${CMAKE_BINARY_DIR}/generated/embedded_seed.cpp)
  add_custom_command(
    OUTPUT ${out_cpp}
    COMMAND ${CMAKE_COMMAND} -DUSERS_JSON=${users} -DPERSONAS_JSON=${personas} -DOUT_CPP=${out_cpp}
            -P ${PROJECT_SOURCE_DIR}/cmake/GenerateEmbeddedSeed.cmake
    DEPENDS ${users} ${personas} ${PROJECT_SOURCE_DIR}/cmake/GenerateEmbeddedSeed.cmake
    COMMENT "Embedding the seeded accounts and personas"
    VERBATIM)
  set(${out_var} ${out_cpp} PARENT_SCOPE)
endfunction()
