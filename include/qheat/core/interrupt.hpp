// Cooperative interruption of long computations (Ctrl-C in the Python package, docs/python.md): a
// process-wide flag that long loops (sweep points, GMRES steps, HEOM levels, Floquet propagation) poll.
// request_interrupt() is async-signal-safe, so a SIGINT handler may call it.
#pragma once

#include "qheat/core/types.hpp"

namespace qheat {

// Thrown by throw_if_interrupted(); a sweep does not turn it into a failed row but stops.
class Interrupted : public Error {
public:
  Interrupted() : Error("interrupted", "the computation was interrupted") {}
};

void request_interrupt() noexcept;
void clear_interrupt() noexcept;
bool interrupt_requested() noexcept;
// Throws Interrupted when an interrupt was requested (and not cleared).
void throw_if_interrupted();

}  // namespace qheat
