// A small seeded random source for traces (SplitMix64). Written out rather than taken from
// <random> because the standard distributions differ between library implementations, and a
// trace generated from a seed must be byte-identical everywhere. Not thread-safe (a value).
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace gpuaas::sim {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t NextU64() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Exponential with the given mean.
  double Exponential(double mean) { return -mean * std::log1p(-Uniform()); }
  // Standard normal (Box-Muller; one of the pair).
  double Normal() {
    double u1 = 1.0 - Uniform();  // (0, 1]
    double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t state_;
};

// A seed derived from a base seed and a name (FNV-1a of the name, mixed with the seed): gives
// each job its own stream, independent of the order jobs are read in.
inline uint64_t SeedFor(uint64_t seed, std::string_view name) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ULL;
  return Rng(h ^ (seed * 0x9e3779b97f4a7c15ULL)).NextU64();
}

}  // namespace gpuaas::sim
