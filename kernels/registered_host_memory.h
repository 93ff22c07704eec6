// Host memory this process already has mapped (tierkvd's shared pool, say),
// page-locked and made addressable by the device with cudaHostRegister, so
// kernels read it across PCIe in place instead of through a copy into a
// buffer of their own. Unregistered on destruction; the memory itself stays
// the owner's, and must stay mapped for as long as this object lives.
//
// Thread safety: none needed after Register(); the object is read-only.
#pragma once

#include <cstddef>
#include <span>

#include "tierkv/status.h"

namespace tierkv::kernels {

class RegisteredHostMemory {
 public:
  RegisteredHostMemory() = default;
  // InvalidArgument for an empty region; otherwise CudaStatus's errors
  // (Unavailable without a device, Internal when the region cannot be
  // registered, for instance because it already is).
  static Result<RegisteredHostMemory> Register(std::span<std::byte> host);
  RegisteredHostMemory(RegisteredHostMemory&& other) noexcept;
  RegisteredHostMemory& operator=(RegisteredHostMemory&& other) noexcept;
  RegisteredHostMemory(const RegisteredHostMemory&) = delete;
  RegisteredHostMemory& operator=(const RegisteredHostMemory&) = delete;
  ~RegisteredHostMemory();

  bool empty() const { return host_.empty(); }
  // Whether all of `bytes` lies inside the registered region.
  bool Contains(std::span<const std::byte> bytes) const;
  // The device's address of `host`, which must lie inside the region.
  const std::byte* device_address(const std::byte* host) const {
    return device_ + (host - host_.data());
  }

 private:
  void Reset();
  std::span<std::byte> host_;
  std::byte* device_ = nullptr;
};

}  // namespace tierkv::kernels
