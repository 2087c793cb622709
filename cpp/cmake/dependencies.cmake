# What gnet needs, found once: OpenVINO (the CPU runner and IR reading), libpng and libjpeg (images),
# nlohmann/json (metadata and manifests, header-only), and for the TensorRT runner TensorRT's headers and CUDA.
include(GNUInstallDirs)

find_package(OpenVINO REQUIRED COMPONENTS Runtime)
# The folder of OpenVINO's runtime library, for gnet-infer's RUNPATH (the wheel's libs/ is not on any system path).
get_target_property(_gnet_ov_configs openvino::runtime IMPORTED_CONFIGURATIONS)
foreach(_config IN LISTS _gnet_ov_configs)
  get_target_property(_gnet_ov_library openvino::runtime IMPORTED_LOCATION_${_config})
  if(_gnet_ov_library)
    get_filename_component(GNET_OPENVINO_LIBRARY_DIR "${_gnet_ov_library}" DIRECTORY)
    break()
  endif()
endforeach()
find_package(PNG REQUIRED)
find_package(JPEG REQUIRED)

# nlohmann/json: its CMake package where one is installed, else the headers the nlohmann-json wheel ships
# (python -c "import nlohmann_json as n; print(n.get_include())"), passed as GNET_NLOHMANN_INCLUDE_DIR.
add_library(gnet_json INTERFACE)
find_package(nlohmann_json 3.11 CONFIG QUIET)
if(nlohmann_json_FOUND)
  target_link_libraries(gnet_json INTERFACE nlohmann_json::nlohmann_json)
elseif(GNET_NLOHMANN_INCLUDE_DIR AND EXISTS "${GNET_NLOHMANN_INCLUDE_DIR}/nlohmann/json.hpp")
  target_include_directories(gnet_json SYSTEM INTERFACE "${GNET_NLOHMANN_INCLUDE_DIR}")
else()
  message(FATAL_ERROR "gnet needs nlohmann/json: install it (pip install nlohmann-json, or apt install "
                      "nlohmann-json3-dev) and pass -DGNET_NLOHMANN_INCLUDE_DIR=<folder holding nlohmann/json.hpp>")
endif()

# The TensorRT runner: TensorRT's public headers (no library: libnvinfer is loaded at run time) and CUDA's runtime.
set(GNET_TENSORRT_ENABLED OFF)
if(NOT GNET_WITH_TENSORRT STREQUAL "OFF")
  find_path(GNET_TENSORRT_INCLUDE_DIR NvInferRuntime.h
    HINTS "${TensorRT_ROOT}" ENV TensorRT_ROOT PATH_SUFFIXES include include/x86_64-linux-gnu)
  find_package(CUDAToolkit QUIET)
  if(GNET_TENSORRT_INCLUDE_DIR AND CUDAToolkit_FOUND AND TARGET CUDA::cudart_static)
    set(GNET_TENSORRT_ENABLED ON)
  elseif(GNET_WITH_TENSORRT STREQUAL "ON")
    message(FATAL_ERROR "GNET_WITH_TENSORRT=ON needs TensorRT's headers "
                        "(-DTensorRT_ROOT=<folder with include/NvInferRuntime.h>) and the CUDA toolkit "
                        "(found: headers '${GNET_TENSORRT_INCLUDE_DIR}', CUDA ${CUDAToolkit_FOUND})")
  endif()
endif()
message(STATUS "gnet: TensorRT runner ${GNET_TENSORRT_ENABLED} (headers: ${GNET_TENSORRT_INCLUDE_DIR})")
