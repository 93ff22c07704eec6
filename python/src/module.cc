// tierkv._tierkv: the compiled core of the Python package. It binds the
// handles (handles.h) with the names the package (python/tierkv/) wraps; the
// package, not this module, is the public API, with its docstrings and types.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <limits>
#include <string>

#include "python/src/buffers.h"
#include "python/src/handles.h"
#include "python/src/status_error.h"
#include "tierkv/namespace_spec.h"
#include "tierkv/tierkv.h"

namespace tierkv::python {
namespace {

constexpr int kKeyHalfBits = 64;

// The exception class per status code, set once by tierkv/errors.py. Never
// destroyed: it may be needed until the interpreter's very end.
py::dict& ErrorClasses() {
  static auto* classes = new py::dict();
  return *classes;
}

void TranslateStatusError(std::exception_ptr error) {
  try {
    if (error) std::rethrow_exception(error);
  } catch (const StatusError& e) {
    const Status& s = e.status();
    py::object code = py::int_(static_cast<int>(s.code()));
    PyObject* cls = ErrorClasses().contains(code) ? ErrorClasses()[code].ptr() : PyExc_RuntimeError;
    PyErr_SetString(cls, std::string(s.message()).c_str());
  }
}

// A 128-bit key as a Python int: hi << 64 | lo.
py::int_ KeyToInt(const Key128& key) {
  py::int_ hi(key.hi);
  py::int_ lo(key.lo);
  py::object shifted = py::reinterpret_steal<py::object>(
      PyNumber_Lshift(hi.ptr(), py::int_(kKeyHalfBits).ptr()));
  return py::reinterpret_steal<py::int_>(PyNumber_Or(shifted.ptr(), lo.ptr()));
}

// Seconds (None: the library default; inf: no limit) as ConnectOptions::timeout_ms.
int TimeoutMs(const py::object& timeout) {
  if (timeout.is_none()) return ConnectOptions{}.timeout_ms;
  const double seconds = timeout.cast<double>();
  if (std::isinf(seconds) && seconds > 0) return 0;
  constexpr double kMsPerSecond = 1000.0;
  const double ms = std::ceil(seconds * kMsPerSecond);
  if (!(seconds > 0) || ms > std::numeric_limits<int>::max()) {
    ThrowInvalidArgument("timeout must be a positive number of seconds, or None or inf");
  }
  return static_cast<int>(ms);
}

void BindClient(py::module_& m) {
  py::class_<ClientHandle, std::shared_ptr<ClientHandle>>(m, "Client")
      .def(py::init([](const std::string& address, const std::string& tenant,
                       const std::string& tenant_token, const std::string& admin_token,
                       const py::object& timeout, bool touch_pool) {
             ConnectOptions o;
             o.address = address;
             o.tenant_token = tenant_token;
             o.admin_token = admin_token;
             o.timeout_ms = TimeoutMs(timeout);
             o.touch_pool = touch_pool;
             return ClientHandle::Connect(o, tenant);
           }),
           py::arg("address"), py::arg("tenant"), py::arg("tenant_token"),
           py::arg("admin_token"), py::arg("timeout"), py::arg("touch_pool"))
      .def_property_readonly("local", &ClientHandle::local)
      .def_property_readonly("tenant", &ClientHandle::tenant)
      .def_property_readonly("closed", &ClientHandle::closed)
      .def("open_namespace",
           [](const std::shared_ptr<ClientHandle>& self, NamespaceSpec spec) {
             Client& client = self->client();
             Result<Namespace> ns = Status::Internal("not opened");
             {
               py::gil_scoped_release release;
               ns = client.OpenNamespace(spec);
             }
             return std::make_shared<NamespaceHandle>(self, ValueOrThrow(std::move(ns)));
           })
      .def("stats_json",
           [](ClientHandle& self) {
             Client& client = self.client();
             Result<Stats> stats = Status::Internal("no stats");
             {
               py::gil_scoped_release release;
               stats = client.GetStats();
             }
             return ValueOrThrow(std::move(stats)).raw_json;
           })
      .def("health",
           [](ClientHandle& self) {
             Client& client = self.client();
             Result<Health> health = Status::Internal("no health");
             {
               py::gil_scoped_release release;
               health = client.GetHealth();
             }
             Health h = ValueOrThrow(std::move(health));
             return py::make_tuple(h.ok, h.version, h.detail);
           })
      .def(
          "evict",
          [](ClientHandle& self, const NamespaceHandle* ns) {
            Client& client = self.client();
            Result<uint64_t> n = Status::Internal("not evicted");
            {
              py::gil_scoped_release release;
              n = client.Evict(ns ? &ns->ns() : nullptr);
            }
            return ValueOrThrow(std::move(n));
          },
          py::arg("ns").none(true))
      .def("flush",
           [](ClientHandle& self) {
             Client& client = self.client();
             Result<uint64_t> n = Status::Internal("not flushed");
             {
               py::gil_scoped_release release;
               n = client.Flush();
             }
             return ValueOrThrow(std::move(n));
           })
      .def("gpu_pool",
           [](ClientHandle& self) {
             Client& client = self.client();
             Result<GpuPoolInfo> pool = Status::Internal("no pool");
             {
               py::gil_scoped_release release;
               pool = client.GpuPool();
             }
             GpuPoolInfo p = ValueOrThrow(std::move(pool));
             py::dict d;
             d["device"] = p.device;
             d["pci_bus_id"] = p.pci_bus_id;
             d["ipc_handle"] = py::bytes(p.ipc_handle);
             d["pool_bytes"] = p.pool_bytes;
             d["description"] = p.description;
             return d;
           })
      .def("shared_pool",
           [](ClientHandle& self) {
             Span<std::byte> pool = self.client().shared_pool();
             return py::make_tuple(reinterpret_cast<uintptr_t>(pool.data()), pool.size());
           })
      .def("close", &ClientHandle::Close);
}

void BindNamespace(py::module_& m) {
  py::class_<NamespaceSpec>(m, "NamespaceSpec")
      .def(py::init<>())
      .def_readwrite("model_fingerprint", &NamespaceSpec::model_fingerprint)
      .def_readwrite("tenant", &NamespaceSpec::tenant)
      .def_readwrite("adapter_id", &NamespaceSpec::adapter_id)
      .def_readwrite("kv_dtype", &NamespaceSpec::kv_dtype)
      .def_readwrite("kv_layout", &NamespaceSpec::kv_layout)
      .def_readwrite("block_tokens", &NamespaceSpec::block_tokens)
      .def_readwrite("block_bytes", &NamespaceSpec::block_bytes);

  py::class_<Chain>(m, "Chain")
      .def("__len__", [](const Chain& c) { return c.keys.size(); })
      .def("key",
           [](const Chain& c, size_t i) {
             if (i >= c.keys.size()) {
               throw py::index_error("block " + std::to_string(i) + " of a chain of " +
                                     std::to_string(c.keys.size()));
             }
             return KeyToInt(c.keys[i]);
           })
      .def_property_readonly("parent", [](const Chain& c) { return KeyToInt(c.parent); })
      .def_property_readonly("starts_at_root", &Chain::starts_at_root)
      .def_property_readonly("block_tokens", [](const Chain& c) { return c.block_tokens; })
      .def_property_readonly("tokens", [](const Chain& c) { return c.tokens; })
      .def("slice", &Chain::Slice);

  py::class_<NamespaceHandle, std::shared_ptr<NamespaceHandle>>(m, "Namespace")
      .def_property_readonly("id", [](const NamespaceHandle& n) { return KeyToInt(n.ns().id); })
      .def_property_readonly("handle", [](const NamespaceHandle& n) { return n.ns().handle; })
      .def_property_readonly("block_tokens",
                             [](const NamespaceHandle& n) { return n.ns().block_tokens; })
      .def_property_readonly("block_bytes",
                             [](const NamespaceHandle& n) { return n.ns().block_bytes; })
      .def("chain", &NamespaceHandle::MakeChain)
      .def("lookup", &NamespaceHandle::Lookup)
      .def("put", &NamespaceHandle::Put)
      .def("get", &NamespaceHandle::Get)
      .def("acquire", &NamespaceHandle::Acquire)
      .def("reserve", &NamespaceHandle::Reserve);
}

void BindLeaseAndReservation(py::module_& m) {
  py::class_<LeaseHandle, std::shared_ptr<LeaseHandle>>(m, "Lease")
      .def("__len__", &LeaseHandle::size)
      .def("view", &LeaseHandle::View)
      .def("address", &LeaseHandle::Address)
      .def("tier", [](const LeaseHandle& l, size_t i) { return std::string(TierName(l.location(i))); })
      .def("gpu_offset", &LeaseHandle::gpu_offset)
      .def_property_readonly("released", &LeaseHandle::released)
      .def("release", &LeaseHandle::Release);

  py::class_<ReservationHandle, std::shared_ptr<ReservationHandle>>(m, "Reservation")
      .def("__len__", &ReservationHandle::size)
      .def("view", &ReservationHandle::View)
      .def("address", &ReservationHandle::Address)
      .def_property_readonly("open", &ReservationHandle::open)
      .def("commit", &ReservationHandle::Commit)
      .def("abort", &ReservationHandle::Abort);
}

void InitModule(py::module_& m) {
  m.doc() = "tierkv's compiled core. Use the tierkv package; this module is internal.";
  py::register_exception_translator(&TranslateStatusError);
  m.def("_set_error_classes", [](py::dict classes) { ErrorClasses() = std::move(classes); });
  py::tuple dtypes(std::size(kKnownKvDtypes));
  for (size_t i = 0; i < std::size(kKnownKvDtypes); ++i) {
    dtypes[i] = py::str(std::string(kKnownKvDtypes[i]));
  }
  m.attr("KV_DTYPES") = dtypes;
  m.attr("LIBRARY_VERSION") = tierkv_version();
  BindBlockBuffer(m);
  BindClient(m);
  BindNamespace(m);
  BindLeaseAndReservation(m);
}

}  // namespace
}  // namespace tierkv::python

PYBIND11_MODULE(_tierkv, m) { tierkv::python::InitModule(m); }
