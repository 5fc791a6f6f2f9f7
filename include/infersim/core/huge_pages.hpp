#pragma once
// Huge pages for large tables filled once (the simulation's request table): filling 80 MB of fresh memory
// takes 20,000 page faults of 4 kB, each a trip through the kernel (and, in a virtual machine, the
// hypervisor); with 2 MB pages it takes 40. Linux only (transparent huge pages in `madvise` or `always`
// mode); elsewhere, or where the kernel declines, nothing changes but the time.

#include <cstddef>

namespace infersim {

/// Ask that the untouched memory [data, data + bytes) be backed by huge pages as it is first written (only
/// the whole 2 MB pages inside the range; a range smaller than two of them is left alone). Advice only:
/// contents and behaviour are unchanged, failures are ignored.
void advise_huge_pages(void* data, std::size_t bytes);

}  // namespace infersim
