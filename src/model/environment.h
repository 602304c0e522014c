// Environment: an entry of the environment catalogue, a named container image of the group's
// registry that a job chooses at submit ("environment": "pytorch"). A job with an environment
// runs in the podman runtime on its node; a job without one runs as a process on the host.
#pragma once

#include <map>
#include <string>

namespace gpuaas {

struct Environment {
  std::string name;
  std::string image;  // an OCI image reference, e.g. registry.example/ml/pytorch:2.4
  std::string description;
};

// The catalogue shipped by default (the `[environments]` section of the server config adds to
// it or replaces it): PyTorch, TensorFlow, JAX and a bare CUDA runtime from the group registry.
std::map<std::string, Environment> DefaultEnvironments();

// An image reference we accept: non-empty, at most 255 characters, no whitespace, not starting
// with '-' (it is a podman argument).
bool IsValidImageReference(const std::string& image);

}  // namespace gpuaas
