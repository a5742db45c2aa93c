#pragma once

namespace switchboard::util {

// The CPUs this process may run on: its affinity mask (taskset, a container's cpuset), not every core of the
// machine. Threads beyond it only take turns on the same cores, and the switching costs more than it gives
// (measured in docs/performance.md). At least 1.
unsigned usable_cpus();

}  // namespace switchboard::util
