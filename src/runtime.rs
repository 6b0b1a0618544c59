//! Process-wide settings that make libtorch fast on these machines.
//!
//! glibc serves large blocks (activations of a training batch are tens of MB) with fresh
//! `mmap`s and returns freed memory to the kernel at once, so every training step paid for
//! page faults on gigabytes of new pages: half of the CPU time went to the kernel, and
//! training ran at half speed. Keeping such blocks in the heap (high mmap and trim
//! thresholds) removes that cost; the memory stays with the process, which is what a
//! long-running trainer or daemon wants anyway.

/// Raises glibc's mmap and trim thresholds; returns whether glibc accepted both.
pub fn tune_allocator() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters; it is called before any
        // other thread exists (at the start of main).
        unsafe {
            let mmap = libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
            let trim = libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
            mmap == 1 && trim == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
