#if canImport(Glibc)
    import Glibc
#endif

/// The C allocator's share of a run's peak memory (issue 13, "Flat memory").
///
/// glibc's `malloc` keeps memory that was freed inside its heaps for reuse and gives back only the free space at the
/// top of a heap. The calls of a run allocate and free small objects (requests, replies, votes) on many threads, each
/// with its own arena: once the calls are done that freed memory stays resident, under the analysis that follows.
/// ``releaseFreed()`` (`malloc_trim(0)`) gives the free pages inside every arena back to the system. It changes
/// nothing that is computed; on other C libraries it does nothing.
enum ProcessMemory {
    /// Gives the free memory inside the allocator's heaps back to the system (between the phases of a run).
    static func releaseFreed() {
        #if canImport(Glibc)
            // `malloc_trim` is declared in <malloc.h>, which the Glibc module does not export.
            typealias MallocTrim = @convention(c) (Int) -> Int32
            guard let f = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
            _ = unsafeBitCast(f, to: MallocTrim.self)(0)
        #endif
    }
}
