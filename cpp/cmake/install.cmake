# cmake --install: the library, gnet.hpp, gnet-infer and a CMake package, so that another project can
#   find_package(gnet REQUIRED)    # with OpenVINO_DIR (and CUDA, for the TensorRT runner) findable
#   target_link_libraries(app PRIVATE gnet::gnet)
include(CMakePackageConfigHelpers)

install(TARGETS gnet EXPORT gnetTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/gnet DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(GNET_BUILD_TOOLS)
  install(TARGETS gnet-infer RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(EXPORT gnetTargets NAMESPACE gnet:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/gnet)
configure_package_config_file(cmake/gnetConfig.cmake.in "${CMAKE_CURRENT_BINARY_DIR}/gnetConfig.cmake"
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/gnet)
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/gnetConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/gnetConfig.cmake" "${CMAKE_CURRENT_BINARY_DIR}/gnetConfigVersion.cmake"
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/gnet)
