#include "model/environment.h"

namespace gpuaas {

std::map<std::string, Environment> DefaultEnvironments() {
  const std::string registry = "artifactory.gpuaas.example/gpuaas-docker";
  std::map<std::string, Environment> m;
  auto add = [&](const std::string& name, const std::string& image, const std::string& what) {
    m[name] = Environment{name, registry + "/" + image, what};
  };
  add("pytorch", "pytorch:2.4.1-cuda12.4-cudnn9", "PyTorch 2.4 with CUDA 12.4 and cuDNN 9");
  add("tensorflow", "tensorflow:2.17.0-gpu", "TensorFlow 2.17 with GPU support");
  add("jax", "jax:0.4.31-cuda12", "JAX 0.4 with CUDA 12");
  add("cuda", "cuda:12.4.1-runtime-ubuntu22.04", "CUDA 12.4 runtime on Ubuntu 22.04");
  return m;
}

bool IsValidImageReference(const std::string& image) {
  if (image.empty() || image.size() > 255 || image[0] == '-') return false;
  for (char c : image) {
    if (c <= ' ' || c == 0x7f) return false;
  }
  return true;
}

}  // namespace gpuaas
