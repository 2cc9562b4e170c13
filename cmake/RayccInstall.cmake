# `cmake --install`: headers, the shared libraries, the tools and a CMake
# package, so that an out-of-tree project can do
#
#   find_package(raycc CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE raycc::runtime)   # the API + embedded runtime
#   target_link_libraries(app PRIVATE raycc::graph)     # <raycc/graph.h>, for graphs
#   target_link_libraries(app PRIVATE raycc::ray_compat) # Ray's <ray/api.h> on raycc
#
# (or `pkg-config --cflags --libs raycc-ray` for Ray's API)
# and an installed `raycc compile` finds <prefix>/include and <prefix>/lib
# next to itself (examples/out-of-tree, tests/install).

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Installed binaries and libraries find raycc's libraries next to them, and
# LLVM/MLIR where the system keeps them.
set(CMAKE_INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
set(CMAKE_INSTALL_RPATH_USE_LINK_PATH ON)

set(_raycc_exported raycc_proto raycc_runtime_common raycc_runtime_gpu raycc_runtime raycc_graph raycc_ray_compat)
set_target_properties(raycc_proto PROPERTIES EXPORT_NAME proto)
set_target_properties(raycc_runtime_common PROPERTIES EXPORT_NAME runtime_common)
set_target_properties(raycc_runtime_gpu PROPERTIES EXPORT_NAME runtime_gpu)
set_target_properties(raycc_runtime PROPERTIES EXPORT_NAME runtime)
set_target_properties(raycc_graph PROPERTIES EXPORT_NAME graph)
set_target_properties(raycc_ray_compat PROPERTIES EXPORT_NAME ray_compat)
foreach(t ${_raycc_exported} raycc raycc-opt)
  set_target_properties(${t} PROPERTIES INSTALL_RPATH "${CMAKE_INSTALL_RPATH}"
                                        INSTALL_RPATH_USE_LINK_PATH ON)
endforeach()

install(TARGETS ${_raycc_exported} EXPORT rayccTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS raycc raycc-opt RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Public headers: the runtime's, the DSL's (not the MLIR-facing frontend
# header) and the generated protobuf headers they may include.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/compat/ray/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
configure_file(${PROJECT_SOURCE_DIR}/runtime/compat/ray/raycc-ray.pc.in ${CMAKE_BINARY_DIR}/raycc-ray.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/raycc-ray.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/frontend/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  PATTERN "TraceToMlir.h" EXCLUDE)
install(DIRECTORY ${CMAKE_BINARY_DIR}/proto/gen/raycc/proto/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/raycc/proto
  FILES_MATCHING PATTERN "*.pb.h")

install(EXPORT rayccTargets NAMESPACE raycc:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/raycc)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/rayccConfig.cmake.in
  ${CMAKE_BINARY_DIR}/rayccConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/raycc)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/rayccConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/rayccConfig.cmake ${CMAKE_BINARY_DIR}/rayccConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/raycc)
