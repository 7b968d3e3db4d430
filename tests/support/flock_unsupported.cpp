// LD_PRELOAD shim for tests/cluster: flock(2) fails with ENOSYS, as on a file system without lock support
// (Lustre mounted noflock, NFS without its lock daemon).
#include <cerrno>

extern "C" int flock(int /*fd*/, int /*operation*/) {
  errno = ENOSYS;
  return -1;
}
